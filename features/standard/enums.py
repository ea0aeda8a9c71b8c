"""The enums of the data standard (代码表): stable English codes with Chinese and English
labels; data stores the code, reports and the console show the label.
"""

from __future__ import annotations

from features.standard.schema import Enum, enum_of

CONTRACT_TYPE = enum_of(
    "contract_type",
    ("development", "技术开发", "technology development"),
    ("transfer", "技术转让", "technology transfer"),
    ("licensing", "技术许可", "technology licensing"),
    ("consulting", "技术咨询", "technology consulting"),
    ("service", "技术服务", "technology service"),
)

PARTY_KIND = enum_of(
    "party_kind",
    ("enterprise", "企业", "enterprise"),
    ("university", "高校", "university"),
    ("research_institute", "科研院所", "research institute"),
    ("other", "其他", "other (government, individual, NGO)"),
)

CONTRACT_STATUS = enum_of(
    "contract_status",
    ("registered", "已登记", "registered"),
    ("revoked", "已撤销", "revoked"),
    ("disputed", "有争议", "disputed"),
    ("false_found", "核查认定虚假", "audited and found false"),
)

TECH_FIELD = enum_of(
    "tech_field",
    ("electronic_information", "电子信息", "electronic information"),
    ("advanced_manufacturing", "先进制造", "advanced manufacturing"),
    ("new_materials", "新材料及其应用", "new materials"),
    ("biomedicine", "生物、医药和医疗器械", "biomedicine and medical devices"),
    ("new_energy", "新能源与高效节能", "new energy and energy efficiency"),
    ("modern_agriculture", "现代农业", "modern agriculture"),
    ("urban_social", "城市建设与社会发展", "urban construction and social development"),
    ("environment", "环境保护与资源综合利用", "environmental protection"),
    ("aerospace", "航空航天", "aerospace"),
    ("modern_transport", "现代交通", "modern transport"),
    ("nuclear", "核应用技术", "nuclear applications"),
    ("other", "其他", "other"),
)

INSTITUTION_TYPE = enum_of(
    "institution_type",
    ("university", "高校技术转移机构", "university technology transfer office"),
    ("research_institute", "科研院所技术转移机构", "research institute transfer office"),
    ("enterprise", "企业型技术转移机构", "enterprise-type transfer institution"),
    ("public_platform", "公共服务平台/技术交易市场", "public platform or technology exchange"),
    ("private", "民营服务机构", "private service firm"),
)

INSTITUTION_LEVEL = enum_of(
    "institution_level",
    ("national", "国家技术转移示范机构", "national demonstration institution"),
    ("provincial", "省级技术转移机构", "provincial institution"),
    ("other", "其他技术转移机构", "other institution"),
)

INSTITUTION_STATUS = enum_of(
    "institution_status",
    ("active", "正常", "active"),
    ("warned", "警告", "warned"),
    ("exited", "已退出", "exited"),
)

BROKER_LEVEL = enum_of(
    "broker_level",
    ("junior", "初级技术经纪人", "junior broker"),
    ("intermediate", "中级技术经纪人", "intermediate broker"),
    ("senior", "高级技术经理人", "senior technology manager"),
)

SUBJECT_KIND = enum_of(
    "subject_kind",
    ("institution", "技术转移机构", "technology transfer institution"),
    ("broker", "技术经纪人", "technology broker"),
    ("party", "合同当事人", "contract party"),
)

CONDUCT_KIND = enum_of(
    "conduct_kind",
    ("false_registration", "虚假登记骗取优惠", "false registration for tax relief or subsidy"),
    ("split_contracts", "拆分合同", "split contracts"),
    ("circular_trade", "关联方循环交易", "circular trade among related parties"),
    ("inflated_amount", "虚增合同金额", "inflated contract amount"),
    ("misreported_performance", "虚报业绩", "misreported performance"),
    ("breach_of_contract", "违约", "breach of contract"),
    ("research_integrity", "科研失信", "research-integrity violation"),
)

SEVERITY = enum_of(
    "severity",
    ("minor", "一般", "minor"),
    ("serious", "较重", "serious"),
    ("severe", "严重", "severe"),
)

# GB/T 2260 province-level codes, with the market's (skewed) share of contracts used by the
# synthetic market: Beijing, Guangdong, Jiangsu, Shanghai, Shaanxi lead the real register.
PROVINCES: tuple[tuple[str, str, str], ...] = (
    ("110000", "北京市", "Beijing"),
    ("120000", "天津市", "Tianjin"),
    ("130000", "河北省", "Hebei"),
    ("140000", "山西省", "Shanxi"),
    ("150000", "内蒙古自治区", "Inner Mongolia"),
    ("210000", "辽宁省", "Liaoning"),
    ("220000", "吉林省", "Jilin"),
    ("230000", "黑龙江省", "Heilongjiang"),
    ("310000", "上海市", "Shanghai"),
    ("320000", "江苏省", "Jiangsu"),
    ("330000", "浙江省", "Zhejiang"),
    ("340000", "安徽省", "Anhui"),
    ("350000", "福建省", "Fujian"),
    ("360000", "江西省", "Jiangxi"),
    ("370000", "山东省", "Shandong"),
    ("410000", "河南省", "Henan"),
    ("420000", "湖北省", "Hubei"),
    ("430000", "湖南省", "Hunan"),
    ("440000", "广东省", "Guangdong"),
    ("450000", "广西壮族自治区", "Guangxi"),
    ("460000", "海南省", "Hainan"),
    ("500000", "重庆市", "Chongqing"),
    ("510000", "四川省", "Sichuan"),
    ("520000", "贵州省", "Guizhou"),
    ("530000", "云南省", "Yunnan"),
    ("540000", "西藏自治区", "Tibet"),
    ("610000", "陕西省", "Shaanxi"),
    ("620000", "甘肃省", "Gansu"),
    ("630000", "青海省", "Qinghai"),
    ("640000", "宁夏回族自治区", "Ningxia"),
    ("650000", "新疆维吾尔自治区", "Xinjiang"),
)
REGION = enum_of("region", *PROVINCES)

ENUMS: tuple[Enum, ...] = (
    CONTRACT_TYPE, PARTY_KIND, CONTRACT_STATUS, TECH_FIELD, INSTITUTION_TYPE, INSTITUTION_LEVEL,
    INSTITUTION_STATUS, BROKER_LEVEL, SUBJECT_KIND, CONDUCT_KIND, SEVERITY, REGION,
)
