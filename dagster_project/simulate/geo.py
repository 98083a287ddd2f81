"""Reference geography and name pools: the 129 counties, synthetic townships and villages, the real
places Yunnan's migrant workers go to, and surname / given-name pools.

Everything here is small (hundreds of strings); per-person data only holds integer indices into
these pools, which keeps the province scale (9.3M people) within memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.settings import SEEDS_DIR

PROVINCE = "云南省"

# Out-of-province destinations (省外) with rough weights: Guangdong and Zhejiang dominate.
OUT_OF_PROVINCE = {
    "广东省深圳市": 14, "广东省东莞市": 12, "广东省广州市": 8, "广东省佛山市": 7, "广东省中山市": 4,
    "广东省惠州市": 4, "浙江省宁波市": 9, "浙江省杭州市": 6, "浙江省温州市": 5, "浙江省金华市": 4,
    "浙江省嘉兴市": 3, "江苏省苏州市": 6, "江苏省无锡市": 2, "福建省厦门市": 4, "福建省泉州市": 3,
    "上海市": 6, "北京市": 2, "四川省成都市": 4, "贵州省贵阳市": 2, "山东省青岛市": 2,
    "广西壮族自治区南宁市": 2, "湖南省长沙市": 1,
}
ABROAD = {"老挝万象": 5, "老挝琅勃拉邦": 2, "缅甸仰光": 2, "泰国曼谷": 2, "越南河内": 1, "柬埔寨金边": 1}

EMPLOYERS_OUT = ("富士康科技集团", "比亚迪股份有限公司", "立讯精密工业股份有限公司", "美的集团股份有限公司",
                 "舜宇光学科技有限公司", "吉利汽车集团", "京东物流", "顺丰速运有限公司", "中建三局集团有限公司",
                 "欧菲光集团", "蓝思科技股份有限公司", "格力电器股份有限公司")
EMPLOYERS_YN = ("云南建投集团", "云南白药集团", "云天化股份有限公司", "昆明钢铁控股有限公司", "个体经营",
                "农民专业合作社", "就业帮扶车间", "云南城投集团", "云南中烟工业有限责任公司", "德宏后谷咖啡有限公司",
                "普洱茶业有限公司", "鲜花种植基地")
EMPLOYERS_ABROAD = ("中老铁路运营有限公司", "万象赛色塔综合开发区", "中资工程承包企业")

SURNAMES = tuple("王李张刘杨陈赵黄周吴徐孙马朱胡郭何罗高林郑梁谢宋唐韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
                 "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝普李杨者岩刀"
                 "和字施祁番沙左鲁罗")
GIVEN_CHARS = tuple("国华文明建军平志红英秀兰玉芳丽德成强勇刚金海林春云燕桂梅荣永福贵忠正学光富才发兴顺安家宝"
                    "琼娟丹静飞雪涛鹏杰斌俊波")
TOWN_CHARS = tuple("东西南北中新大小上下河山石龙凤马白黑青松竹梅桃李花水坝坪坡岭寨营哨田沟箐甸场街塘江源泉溪湾")


@dataclass
class Counties:
    """The 129 counties of seeds/yunnan_counties.csv, with a population weight per county."""

    code: np.ndarray        # '530102' …
    name: np.ndarray        # 五华区 …
    prefecture: np.ndarray  # 昆明市 …
    prefecture_code: np.ndarray
    weight: np.ndarray      # share of the province's 脱贫人口

    @property
    def n(self) -> int:
        return len(self.code)

    @property
    def location(self) -> np.ndarray:
        """务工所在地 text for work inside each county, e.g. 云南省昆明市五华区."""
        return np.array([f"{PROVINCE}{p}{c}" for p, c in zip(self.prefecture, self.name, strict=True)])


def load_counties(rng: np.random.Generator) -> Counties:
    """Read the seed list; former poverty counties carry most 脱贫人口, city districts little."""
    df = pd.read_csv(SEEDS_DIR / "yunnan_counties.csv", dtype=str)
    flags = pd.read_csv(SEEDS_DIR / "yunnan_county_flags.csv", dtype=str)
    poor = df["county_code"].map(dict(zip(flags["county_code"], flags["is_former_poverty_county"],
                                          strict=True))).fillna("0").eq("1").to_numpy()
    district = df["county_type"].eq("市辖区").to_numpy()
    weight = rng.lognormal(0.0, 0.35, len(df)) * np.where(poor, 1.6, 0.6) * np.where(district, 0.4, 1.0)
    return Counties(code=df["county_code"].to_numpy(), name=df["county_name_zh"].to_numpy(),
                    prefecture=df["prefecture_name_zh"].to_numpy(),
                    prefecture_code=df["prefecture_code"].to_numpy(), weight=weight / weight.sum())


def place_names(rng: np.random.Generator, n: int, suffixes: tuple[str, ...]) -> list[str]:
    """n distinct two-character place names with a suffix (镇/乡, 村/社区), drawn without replacement."""
    k = len(TOWN_CHARS)
    picks = rng.choice(k * k, size=n, replace=False)
    return [TOWN_CHARS[p // k] + TOWN_CHARS[p % k] + suffixes[i % len(suffixes)] for i, p in enumerate(picks)]


def weighted(table: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """Names and normalised probabilities of a weighted table."""
    names = list(table)
    w = np.array([table[k] for k in names], dtype=float)
    return names, w / w.sum()
