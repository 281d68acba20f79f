//! The demo company (`kam demo`, `kam serve --demo`): headquarters, four regions, eight branches,
//! a user of every role, 240 accounts with their buying committees, opportunities, and the
//! salespeople's visits and calls of the last three weeks and this one (a few planned ahead), and
//! their year: monthly quotas (people and regions), deals won in the last eight weeks and this
//! month, deals expected this month and eight weeks of submitted forecasts (docs/DOMAIN.md#10).
//! Users, accounts and contacts are written through the use-case insert functions (so each has
//! its audit entry), opportunities and activities directly by the app's rules, all inside one
//! transaction; the data is deterministic: fixed seeds drive a small PRNG.
use std::collections::{HashMap, HashSet};

use anyhow::{bail, Context};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sqlx::Row;

use crate::app::customers::accounts::{self, AccountData};
use crate::app::customers::contacts::{self, ContactData};
use crate::app::people::users::{self, NewUser};
use crate::app::{people::org, Ctx};
use crate::db::bulk::Inserter;
use crate::db::{ts, Db, WriteTx};
use crate::domain::account::{Attitude, DecisionRole, Gender, Industry, Level, Status, Tier};
use crate::domain::activity as act;
use crate::domain::credit_code::CreditCode;
use crate::domain::role::{OrgKind, Role, SalesType};

/// A user the demo made, as `kam demo` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_unit: String,
}

/// The one account the end-to-end tests look for (owned by `rep`, credit grade yellow).
pub const SPECIAL_ACCOUNT: &str = "北京华信精密制造有限公司";

const ACCOUNTS_PER_BRANCH: usize = 30;
const SEED: u64 = 0x4B41_4D20_4445_4D4F; // "KAM DEMO"

use crate::rng::Rng;

// ---------------------------------------------------------------------------------------------
// The organisation and its people.

const REGIONS: &[(&str, &str)] =
    &[("NORTH", "华北大区"), ("EAST", "华东大区"), ("SOUTH", "华南大区"), ("WEST", "西部大区")];

struct UserSpec {
    username: &'static str,
    display_name: &'static str,
    role: Role,
    org: &'static str,
    manager: Option<&'static str>,
    sales_type: Option<SalesType>,
}

const fn u(
    username: &'static str,
    display_name: &'static str,
    role: Role,
    org: &'static str,
    manager: Option<&'static str>,
    sales_type: Option<SalesType>,
) -> UserSpec {
    UserSpec { username, display_name, role, org, manager, sales_type }
}

const AE: Option<SalesType> = Some(SalesType::Ae);
const SR: Option<SalesType> = Some(SalesType::Sr);

#[rustfmt::skip]
const USERS: &[UserSpec] = &[
    u("admin", "周文斌", Role::Admin, "HQ", None, None),
    u("gm", "王建国", Role::Gm, "HQ", None, None),
    u("mkt.director", "李志强", Role::MarketingDirector, "HQ", None, None),
    u("sales.manager", "张海涛", Role::SalesDeptManager, "HQ", Some("gm"), None),
    u("director", "刘晓东", Role::KaDirector, "HQ", Some("sales.manager"), None),
    u("commercial", "陈静", Role::CommercialManager, "HQ", None, None),
    u("finance", "杨丽华", Role::FinanceManager, "HQ", None, None),
    u("logistics", "赵国栋", Role::LogisticsManager, "HQ", None, None),
    u("marketing", "孙婷婷", Role::Marketing, "HQ", None, None),
    u("north.manager", "黄立新", Role::BranchManager, "NORTH", None, None),
    u("bj.manager", "吴鹏", Role::BranchManager, "BJ", Some("north.manager"), None),
    u("east.manager", "徐明辉", Role::BranchManager, "EAST", None, None),
    u("manager", "马俊杰", Role::KaManager, "NORTH", Some("director"), None),
    u("manager2", "朱晓燕", Role::KaManager, "EAST", Some("director"), None),
    u("manager3", "胡文涛", Role::KaManager, "SOUTH", Some("director"), None),
    u("manager4", "郭宏伟", Role::KaManager, "WEST", Some("director"), None),
    u("rep", "林涛", Role::KaRep, "BJ", Some("manager"), AE),
    u("rep2", "何雪", Role::KaRep, "BJ", Some("manager"), AE),
    u("rep3", "高磊", Role::KaRep, "TJ", Some("manager"), AE),
    u("rep4", "罗佳怡", Role::KaRep, "SH", Some("manager2"), AE),
    u("rep5", "郑斌", Role::KaRep, "NJ", Some("manager2"), AE),
    u("rep6", "梁超", Role::KaRep, "GZ", Some("manager3"), AE),
    u("rep7", "谢颖", Role::KaRep, "SZ", Some("manager3"), AE),
    u("rep8", "宋宇航", Role::KaRep, "CD", Some("manager4"), AE),
    u("rep9", "唐欣怡", Role::KaRep, "XA", Some("manager4"), AE),
    u("sr", "许诺", Role::InsideSales, "BJ", Some("manager"), SR),
    u("sr2", "韩雨涵", Role::InsideSales, "SH", Some("manager2"), SR),
];

/// Reps of each region (for account teams) and the region's KA manager.
fn region_people(region: &str) -> (&'static [&'static str], &'static str) {
    match region {
        "NORTH" => (&["rep", "rep2", "rep3"], "manager"),
        "EAST" => (&["rep4", "rep5"], "manager2"),
        "SOUTH" => (&["rep6", "rep7"], "manager3"),
        _ => (&["rep8", "rep9"], "manager4"),
    }
}

// ---------------------------------------------------------------------------------------------
// Cities: one branch each.

type D = (&'static str, &'static str, &'static str); // district: name, short, slug
type Uni = (&'static str, &'static str, &'static str); // name, short, host

struct City {
    branch: &'static str,
    branch_name: &'static str,
    region: &'static str,
    city: &'static str,
    /// Full pinyin, for web hosts.
    py: &'static str,
    slug: &'static str,
    /// Province prefix for addresses ("" for municipalities).
    prov: &'static str,
    prov_short: &'static str,
    division: &'static str,
    municipal: bool,
    city_bank: bool,
    districts: &'static [D],
    universities: &'static [Uni],
    cetc: &'static [&'static str],
    grid: (&'static str, &'static str, &'static str),
    reps: &'static [&'static str],
    sr: Option<&'static str>,
}

const CITIES: &[City] = &[
    City {
        branch: "BJ",
        branch_name: "北京分公司",
        region: "NORTH",
        city: "北京",
        py: "beijing",
        slug: "bj",
        prov: "",
        prov_short: "北京",
        division: "110000",
        municipal: true,
        city_bank: true,
        districts: &[
            ("海淀区", "海淀", "hd"),
            ("朝阳区", "朝阳", "cy"),
            ("西城区", "西城", "xc"),
            ("东城区", "东城", "dc"),
            ("丰台区", "丰台", "ft"),
            ("昌平区", "昌平", "cp"),
            ("大兴区", "大兴", "dx"),
            ("通州区", "通州", "tz"),
        ],
        universities: &[
            ("北京理工大学", "北理工", "www.bit.edu.cn"),
            ("北京航空航天大学", "北航", "www.buaa.edu.cn"),
            ("北京邮电大学", "北邮", "www.bupt.edu.cn"),
            ("北京交通大学", "北交大", "www.bjtu.edu.cn"),
            ("北京科技大学", "北科大", "www.ustb.edu.cn"),
            ("北京工业大学", "北工大", "www.bjut.edu.cn"),
        ],
        cetc: &["十五", "十一", "十二", "三"],
        grid: ("国网北京市电力公司", "北京电力", "www.bj.sgcc.com.cn"),
        reps: &["rep", "rep2"],
        sr: Some("sr"),
    },
    City {
        branch: "TJ",
        branch_name: "天津分公司",
        region: "NORTH",
        city: "天津",
        py: "tianjin",
        slug: "tj",
        prov: "",
        prov_short: "天津",
        division: "120000",
        municipal: true,
        city_bank: true,
        districts: &[
            ("和平区", "和平", "hp"),
            ("河西区", "河西", "hx"),
            ("南开区", "南开", "nk"),
            ("滨海新区", "滨海", "bh"),
            ("河东区", "河东", "hd"),
            ("西青区", "西青", "xq"),
            ("津南区", "津南", "jn"),
            ("东丽区", "东丽", "dl"),
        ],
        universities: &[
            ("天津大学", "天大", "www.tju.edu.cn"),
            ("南开大学", "南开", "www.nankai.edu.cn"),
            ("天津工业大学", "天工大", "www.tiangong.edu.cn"),
            ("天津理工大学", "天理工", "www.tjut.edu.cn"),
            ("天津科技大学", "天科大", "www.tust.edu.cn"),
            ("天津师范大学", "天师大", "www.tjnu.edu.cn"),
        ],
        cetc: &["十八", "四十六", "五十三"],
        grid: ("国网天津市电力公司", "天津电力", "www.tj.sgcc.com.cn"),
        reps: &["rep3"],
        sr: Some("sr"),
    },
    City {
        branch: "SH",
        branch_name: "上海分公司",
        region: "EAST",
        city: "上海",
        py: "shanghai",
        slug: "sh",
        prov: "",
        prov_short: "上海",
        division: "310000",
        municipal: true,
        city_bank: true,
        districts: &[
            ("浦东新区", "浦东", "pd"),
            ("徐汇区", "徐汇", "xh"),
            ("黄浦区", "黄浦", "hp"),
            ("静安区", "静安", "ja"),
            ("闵行区", "闵行", "mh"),
            ("长宁区", "长宁", "cn"),
            ("杨浦区", "杨浦", "yp"),
            ("嘉定区", "嘉定", "jd"),
        ],
        universities: &[
            ("复旦大学", "复旦", "www.fudan.edu.cn"),
            ("上海交通大学", "上海交大", "www.sjtu.edu.cn"),
            ("同济大学", "同济", "www.tongji.edu.cn"),
            ("华东师范大学", "华东师大", "www.ecnu.edu.cn"),
            ("上海大学", "上大", "www.shu.edu.cn"),
            ("华东理工大学", "华理", "www.ecust.edu.cn"),
        ],
        cetc: &["二十一", "二十三", "三十二", "五十", "五十一"],
        grid: ("国网上海市电力公司", "上海电力", "www.sh.sgcc.com.cn"),
        reps: &["rep4"],
        sr: Some("sr2"),
    },
    City {
        branch: "NJ",
        branch_name: "南京分公司",
        region: "EAST",
        city: "南京",
        py: "nanjing",
        slug: "nj",
        prov: "江苏省",
        prov_short: "江苏",
        division: "320100",
        municipal: false,
        city_bank: true,
        districts: &[
            ("玄武区", "玄武", "xw"),
            ("鼓楼区", "鼓楼", "gl"),
            ("秦淮区", "秦淮", "qh"),
            ("建邺区", "建邺", "jy"),
            ("江宁区", "江宁", "jn"),
            ("栖霞区", "栖霞", "qx"),
            ("浦口区", "浦口", "pk"),
            ("雨花台区", "雨花台", "yht"),
        ],
        universities: &[
            ("南京大学", "南大", "www.nju.edu.cn"),
            ("东南大学", "东大", "www.seu.edu.cn"),
            ("南京理工大学", "南理工", "www.njust.edu.cn"),
            ("南京航空航天大学", "南航", "www.nuaa.edu.cn"),
            ("河海大学", "河海", "www.hhu.edu.cn"),
            ("南京邮电大学", "南邮", "www.njupt.edu.cn"),
        ],
        cetc: &["十四", "二十八", "五十五"],
        grid: ("国网江苏省电力有限公司", "江苏电力", "www.js.sgcc.com.cn"),
        reps: &["rep5"],
        sr: Some("sr2"),
    },
    City {
        branch: "GZ",
        branch_name: "广州分公司",
        region: "SOUTH",
        city: "广州",
        py: "guangzhou",
        slug: "gz",
        prov: "广东省",
        prov_short: "广东",
        division: "440100",
        municipal: false,
        city_bank: true,
        districts: &[
            ("天河区", "天河", "th"),
            ("越秀区", "越秀", "yx"),
            ("海珠区", "海珠", "hz"),
            ("白云区", "白云", "by"),
            ("番禺区", "番禺", "py"),
            ("黄埔区", "黄埔", "hp"),
            ("荔湾区", "荔湾", "lw"),
            ("南沙区", "南沙", "ns"),
        ],
        universities: &[
            ("中山大学", "中大", "www.sysu.edu.cn"),
            ("华南理工大学", "华工", "www.scut.edu.cn"),
            ("暨南大学", "暨大", "www.jnu.edu.cn"),
            ("华南师范大学", "华师", "www.scnu.edu.cn"),
            ("广东工业大学", "广工", "www.gdut.edu.cn"),
            ("广州大学", "广大", "www.gzhu.edu.cn"),
        ],
        cetc: &["七"],
        grid: ("广东电网有限责任公司", "广东电网", "www.gd.csg.cn"),
        reps: &["rep6"],
        sr: None,
    },
    City {
        branch: "SZ",
        branch_name: "深圳分公司",
        region: "SOUTH",
        city: "深圳",
        py: "shenzhen",
        slug: "sz",
        prov: "广东省",
        prov_short: "广东",
        division: "440300",
        municipal: false,
        city_bank: false,
        districts: &[
            ("南山区", "南山", "ns"),
            ("福田区", "福田", "ft"),
            ("罗湖区", "罗湖", "lh"),
            ("宝安区", "宝安", "ba"),
            ("龙岗区", "龙岗", "lg"),
            ("龙华区", "龙华", "lhua"),
            ("光明区", "光明", "gm"),
            ("坪山区", "坪山", "ps"),
        ],
        universities: &[
            ("深圳大学", "深大", "www.szu.edu.cn"),
            ("南方科技大学", "南科大", "www.sustech.edu.cn"),
            ("哈尔滨工业大学（深圳）", "哈工深", "www.hitsz.edu.cn"),
            ("深圳技术大学", "深技大", "www.sztu.edu.cn"),
            ("香港中文大学（深圳）", "港中深", "www.cuhk.edu.cn"),
            ("深圳职业技术大学", "深职大", "www.szpu.edu.cn"),
        ],
        cetc: &[],
        grid: ("深圳供电局有限公司", "深圳供电局", "www.sz.csg.cn"),
        reps: &["rep7"],
        sr: None,
    },
    City {
        branch: "CD",
        branch_name: "成都分公司",
        region: "WEST",
        city: "成都",
        py: "chengdu",
        slug: "cd",
        prov: "四川省",
        prov_short: "四川",
        division: "510100",
        municipal: false,
        city_bank: true,
        districts: &[
            ("武侯区", "武侯", "wh"),
            ("锦江区", "锦江", "jj"),
            ("青羊区", "青羊", "qy"),
            ("金牛区", "金牛", "jn"),
            ("成华区", "成华", "ch"),
            ("双流区", "双流", "sl"),
            ("郫都区", "郫都", "pd"),
            ("龙泉驿区", "龙泉驿", "lqy"),
        ],
        universities: &[
            ("四川大学", "川大", "www.scu.edu.cn"),
            ("电子科技大学", "电子科大", "www.uestc.edu.cn"),
            ("西南交通大学", "西南交大", "www.swjtu.edu.cn"),
            ("西南财经大学", "西财", "www.swufe.edu.cn"),
            ("成都理工大学", "成理", "www.cdut.edu.cn"),
            ("成都信息工程大学", "成信大", "www.cuit.edu.cn"),
        ],
        cetc: &["十", "二十九", "三十"],
        grid: ("国网四川省电力公司", "四川电力", "www.sc.sgcc.com.cn"),
        reps: &["rep8"],
        sr: None,
    },
    City {
        branch: "XA",
        branch_name: "西安分公司",
        region: "WEST",
        city: "西安",
        py: "xian",
        slug: "xa",
        prov: "陕西省",
        prov_short: "陕西",
        division: "610100",
        municipal: false,
        city_bank: true,
        districts: &[
            ("雁塔区", "雁塔", "yt"),
            ("碑林区", "碑林", "bl"),
            ("莲湖区", "莲湖", "lh"),
            ("新城区", "新城", "xc"),
            ("未央区", "未央", "wy"),
            ("长安区", "长安", "ca"),
            ("灞桥区", "灞桥", "bq"),
            ("高陵区", "高陵", "gl"),
        ],
        universities: &[
            ("西安交通大学", "西安交大", "www.xjtu.edu.cn"),
            ("西北工业大学", "西工大", "www.nwpu.edu.cn"),
            ("西安电子科技大学", "西电", "www.xidian.edu.cn"),
            ("长安大学", "长安大学", "www.chd.edu.cn"),
            ("西北大学", "西北大学", "www.nwu.edu.cn"),
            ("西安理工大学", "西安理工", "www.xaut.edu.cn"),
        ],
        cetc: &["二十", "三十九"],
        grid: ("国网陕西省电力有限公司", "陕西电力", "www.sn.sgcc.com.cn"),
        reps: &["rep9"],
        sr: None,
    },
];

// ---------------------------------------------------------------------------------------------
// Name material.

const BUREAUS: &[(&str, &str, &str, &str)] = &[
    ("财政局", "财政局", "czj", "局长"),
    ("教育委员会", "教委", "jw", "主任"),
    ("卫生健康委员会", "卫健委", "wjw", "主任"),
    ("人力资源和社会保障局", "人社局", "rsj", "局长"),
    ("市场监督管理局", "市场监管局", "scjgj", "局长"),
    ("交通运输局", "交通局", "jtj", "局长"),
    ("住房和城乡建设委员会", "住建委", "zjw", "主任"),
    ("生态环境局", "生态环境局", "sthjj", "局长"),
    ("政务服务管理局", "政务服务局", "zwfw", "局长"),
    ("统计局", "统计局", "tjj", "局长"),
    ("民政局", "民政局", "mzj", "局长"),
    ("审计局", "审计局", "sjj", "局长"),
    ("科学技术局", "科技局", "kjj", "局长"),
    ("应急管理局", "应急局", "yjj", "局长"),
    ("司法局", "司法局", "sfj", "局长"),
    ("商务局", "商务局", "swj", "局长"),
    ("医疗保障局", "医保局", "ybj", "局长"),
    ("退役军人事务局", "退役军人局", "tyjrj", "局长"),
];

const CITY_BUREAUS: &[(&str, &str, &str, &str)] = &[
    ("经济和信息化局", "经信局", "jxj", "局长"),
    ("公安局", "公安局", "gaj", "局长"),
    ("交通委员会", "交通委", "jtw", "主任"),
    ("国有资产监督管理委员会", "国资委", "gzw", "主任"),
    ("大数据管理局", "大数据局", "dsj", "局长"),
    ("规划和自然资源局", "规自局", "ghzrj", "局长"),
    ("水务局", "水务局", "swj", "局长"),
    ("体育局", "体育局", "tyj", "局长"),
];

#[rustfmt::skip]
const BRANDS: &[(&str, &str)] = &[
    ("华信", "huaxin"), ("中科", "zhongke"), ("恒通", "hengtong"), ("远景", "yuanjing"), ("瑞达", "ruida"),
    ("博思", "bosi"), ("天成", "tiancheng"), ("金桥", "jinqiao"), ("宏图", "hongtu"), ("正元", "zhengyuan"),
    ("联创", "lianchuang"), ("智达", "zhida"), ("东方", "dongfang"), ("汇通", "huitong"), ("安泰", "antai"),
    ("鼎盛", "dingsheng"), ("凯达", "kaida"), ("永信", "yongxin"), ("德润", "derun"), ("华宇", "huayu"),
    ("九州", "jiuzhou"), ("海纳", "haina"), ("星河", "xinghe"), ("启明", "qiming"), ("润泽", "runze"),
    ("锐思", "ruisi"),
];

#[rustfmt::skip]
const BUSINESSES: &[(&str, &str)] = &[
    ("精密制造", "精密"), ("软件", "软件"), ("信息技术", "信息"), ("智能装备", "智能装备"), ("汽车零部件", "汽配"), ("医药", "医药"),
    ("物流", "物流"), ("电子科技", "电子"), ("新材料", "新材料"), ("数据科技", "数据"), ("网络科技", "网络"), ("机械", "机械"),
    ("化工", "化工"), ("食品", "食品"), ("建设工程", "建工"), ("环保科技", "环保"), ("光电", "光电"), ("生物科技", "生物"),
];

const BANKS: &[(&str, &str, &str)] = &[
    ("招商银行", "招行", "www.cmbchina.com"),
    ("中国工商银行", "工行", "www.icbc.com.cn"),
    ("中国建设银行", "建行", "www.ccb.com"),
    ("中国银行", "中行", "www.boc.cn"),
    ("中国农业银行", "农行", "www.abchina.com"),
    ("交通银行", "交行", "www.bankcomm.com"),
    ("兴业银行", "兴业", "www.cib.com.cn"),
    ("上海浦东发展银行", "浦发", "www.spdb.com.cn"),
    ("中信银行", "中信", "www.citicbank.com"),
    ("中国民生银行", "民生", "www.cmbc.com.cn"),
    ("中国光大银行", "光大", "www.cebbank.com"),
    ("平安银行", "平安", "bank.pingan.com"),
    ("华夏银行", "华夏", "www.hxb.com.cn"),
    ("广发银行", "广发", "www.cgbchina.com.cn"),
];

const INSURERS: &[(&str, &str, &str)] = &[
    ("中国人寿保险股份有限公司", "国寿", "www.e-chinalife.com"),
    ("中国平安财产保险股份有限公司", "平安产险", "property.pingan.com"),
    ("中国人民财产保险股份有限公司", "人保财险", "www.epicc.com.cn"),
    ("中国太平洋人寿保险股份有限公司", "太保寿险", "www.cpic.com.cn"),
    ("新华人寿保险股份有限公司", "新华保险", "www.newchinalife.com"),
    ("中信证券股份有限公司", "中信证券", "www.cs.ecitic.com"),
    ("华泰证券股份有限公司", "华泰证券", "www.htsc.com.cn"),
    ("国泰君安证券股份有限公司", "国泰君安", "www.gtja.com"),
    ("招商证券股份有限公司", "招商证券", "www.cmschina.com"),
];

const GENERATORS: &[(&str, &str, &str)] = &[
    ("华能", "华能", "www.chng.com.cn"),
    ("大唐", "大唐", "www.china-cdt.com"),
    ("华电", "华电", "www.chd.com.cn"),
    ("国家能源集团", "国能", "www.ceic.com"),
    ("国家电投集团", "国家电投", "www.spic.com.cn"),
];
const PLANTS: &[&str] = &["热电", "发电", "新能源", "燃机热电", "综合能源服务"];

const AVIC: &[(&str, &str)] = &[
    ("飞行自动控制", "飞控"),
    ("航空计算技术", "计算"),
    ("航空电子", "航电"),
    ("导航仪表", "导航"),
    ("机载设备", "机载"),
    ("航空动力控制", "动控"),
    ("航空光电", "光电"),
    ("航空材料", "材料"),
];
const DEFENCE: &[(&str, &str)] =
    &[("航天科技", "航天"), ("防务技术", "防务"), ("航电科技", "航电"), ("特种装备", "特装"), ("雷达技术", "雷达")];

const VOC_FIELDS: &[(&str, &str)] = &[
    ("信息", "xx"),
    ("电子", "dz"),
    ("交通", "jt"),
    ("工业", "gy"),
    ("城市", "cs"),
    ("科技", "kj"),
    ("经济", "jj"),
    ("工程", "gc"),
];

const CITY_SOES: &[(&str, &str, &str)] = &[
    ("地铁集团有限公司", "地铁", "metro"),
    ("公共交通集团有限公司", "公交集团", "bus"),
    ("城市建设投资集团有限公司", "城投", "ctjt"),
    ("水务集团有限公司", "水务集团", "water"),
    ("燃气集团有限公司", "燃气集团", "gas"),
    ("机场集团有限公司", "机场集团", "airport"),
    ("港务集团有限公司", "港务集团", "port"),
];
const MEDIA: &[(&str, &str, &str, &str)] = &[
    ("日报社", "日报", "daily", "社长"),
    ("广播电视台", "广电", "tv", "台长"),
    ("图书馆", "图书馆", "library", "馆长"),
    ("博物馆", "博物馆", "museum", "馆长"),
    ("科技馆", "科技馆", "kjg", "馆长"),
];

#[rustfmt::skip]
const ROADS: &[&str] = &[
    "人民路", "中山路", "解放路", "建设路", "科技路", "创业路", "长江路", "黄河路", "世纪大道", "高新路", "学院路", "文化路", "新华路",
    "和平路", "东风路", "光华路", "友谊路", "滨江大道", "金融街", "软件园路",
];

#[rustfmt::skip]
const BUSINESS_UNITS: &[&str] = &[
    "服务器", "存储", "网络", "PC", "笔记本", "工作站", "云服务", "IT服务", "打印机",
];

#[rustfmt::skip]
const TAGS: &[&str] = &[
    "信创", "国产化替代", "数据中心", "云迁移", "等保2.0", "年度框架协议", "集中采购", "新建项目", "竞品在位", "续保到期", "高层关系良好",
    "预算充足", "回款慢",
];

const NOTES: &[&str] = &[
    "年度IT预算已批复，预计二季度启动服务器集中采购。",
    "客户正在推进信创替代，重点关注国产化适配与迁移服务。",
    "竞争对手为现有主力供应商，需加强高层拜访。",
    "去年数据中心扩容项目由我司中标，客户满意度较高。",
    "采购以公开招标为主，需提前介入需求编制。",
    "回款周期偏长，需关注应收账款。",
    "新任信息中心主任上任，需尽快建立关系。",
    "计划明年建设灾备中心，存储需求较大。",
];

#[rustfmt::skip]
const SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"), ("林", "lin"),
    ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"),
    ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"),
    ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("袁", "yuan"), ("潘", "pan"),
    ("于", "yu"), ("蒋", "jiang"), ("蔡", "cai"), ("余", "yu"), ("杜", "du"), ("叶", "ye"),
    ("程", "cheng"), ("苏", "su"), ("魏", "wei"), ("吕", "lv"), ("丁", "ding"), ("任", "ren"),
    ("沈", "shen"),
];

#[rustfmt::skip]
const MALE_NAMES: &[(&str, &str)] = &[
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"),
    ("涛", "tao"), ("斌", "bin"), ("超", "chao"), ("明", "ming"), ("刚", "gang"), ("平", "ping"),
    ("辉", "hui"), ("鹏", "peng"), ("华", "hua"), ("飞", "fei"), ("波", "bo"), ("宁", "ning"),
    ("建国", "jianguo"), ("志强", "zhiqiang"), ("海涛", "haitao"), ("建华", "jianhua"), ("晓东", "xiaodong"),
    ("国栋", "guodong"), ("文博", "wenbo"), ("俊杰", "junjie"), ("立新", "lixin"), ("振华", "zhenhua"),
    ("永刚", "yonggang"), ("德明", "deming"), ("宏伟", "hongwei"), ("子豪", "zihao"), ("浩然", "haoran"),
    ("宇航", "yuhang"), ("志远", "zhiyuan"), ("建军", "jianjun"), ("春生", "chunsheng"), ("学军", "xuejun"),
    ("卫东", "weidong"), ("国庆", "guoqing"),
];

#[rustfmt::skip]
const FEMALE_NAMES: &[(&str, &str)] = &[
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"),
    ("娟", "juan"), ("霞", "xia"), ("秀英", "xiuying"), ("桂英", "guiying"), ("玉兰", "yulan"),
    ("婷", "ting"), ("雪", "xue"), ("慧", "hui"), ("颖", "ying"), ("琳", "lin"), ("晓燕", "xiaoyan"),
    ("丹", "dan"), ("萍", "ping"), ("红梅", "hongmei"), ("佳怡", "jiayi"), ("欣怡", "xinyi"),
    ("雨涵", "yuhan"), ("思琪", "siqi"), ("秀兰", "xiulan"), ("丽娟", "lijuan"), ("海燕", "haiyan"),
    ("晓红", "xiaohong"), ("春梅", "chunmei"), ("淑珍", "shuzhen"), ("文静", "wenjing"), ("梦瑶", "mengyao"),
    ("诗涵", "shihan"), ("雅婷", "yating"), ("美玲", "meiling"), ("凤英", "fengying"),
];

#[rustfmt::skip]
const INTERESTS: &[&str] = &[
    "高尔夫", "书法", "钓鱼", "摄影", "登山", "羽毛球", "乒乓球", "茶道", "围棋", "跑步", "旅游", "红酒", "篮球", "游泳", "京剧",
    "收藏", "骑行", "读书",
];

#[rustfmt::skip]
const MOBILE_PREFIXES: &[&str] = &[
    "38", "39", "36", "37", "35", "58", "59", "86", "87", "88", "89", "33", "53", "80", "81", "50",
    "51",
];

const CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Chinese numerals 1–99.
fn cn(n: u32) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => D[n as usize].to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", D[(n % 10) as usize]),
        _ => format!("{}十{}", D[(n / 10) as usize], D[(n % 10) as usize]),
    }
}

// ---------------------------------------------------------------------------------------------
// Account names.

/// The kind of organisation, which decides the titles of its buying committee.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Gov,
    University,
    School,
    Institute,
    Bank,
    Company,
    Hospital,
    Media,
}

struct Named {
    name: String,
    short: String,
    host: String,
    /// Registration authority + type of the credit code: 11 government, 12 public institution,
    /// 91 enterprise.
    code_type: &'static str,
    kind: Kind,
    boss_title: &'static str,
    /// The district the account sits in (named in the address).
    district: &'static str,
}

fn named(
    name: String,
    short: String,
    host: String,
    code_type: &'static str,
    kind: Kind,
    boss_title: &'static str,
) -> Named {
    Named { name, short, host, code_type, kind, boss_title, district: "" }
}

fn gen_name(ind: Industry, c: &City, rng: &mut Rng) -> Named {
    let d = *rng.pick(c.districts);
    let city = c.city;
    let mut n = match ind {
        Industry::Government => match rng.weighted(&[60, 25, 15]) {
            0 => {
                let b = rng.pick(BUREAUS);
                named(
                    format!("{city}市{}{}", d.0, b.0),
                    format!("{}{}", d.1, b.1),
                    format!("{}.{}{}.gov.cn", b.2, c.slug, d.2),
                    "11",
                    Kind::Gov,
                    b.3,
                )
            }
            1 => {
                let b = rng.pick(CITY_BUREAUS);
                named(
                    format!("{city}市{}", b.0),
                    format!("{city}{}", b.1),
                    format!("{}.{}.gov.cn", b.2, c.py),
                    "11",
                    Kind::Gov,
                    b.3,
                )
            }
            _ => named(
                format!("国家税务总局{city}市{}税务局", d.0),
                format!("{}税务局", d.1),
                format!("{}.chinatax.gov.cn", c.py),
                "11",
                Kind::Gov,
                "局长",
            ),
        },
        Industry::Military => {
            let w: &[u64] = if c.cetc.is_empty() { &[0, 55, 45] } else { &[40, 35, 25] };
            match rng.weighted(w) {
                0 => {
                    let n = rng.pick(c.cetc);
                    named(
                        format!("中国电子科技集团公司第{n}研究所"),
                        format!("电科{n}所"),
                        "www.cetc.com.cn".into(),
                        "12",
                        Kind::Institute,
                        "所长",
                    )
                }
                1 => {
                    let x = rng.pick(AVIC);
                    named(
                        format!("中国航空工业集团公司{city}{}研究所", x.0),
                        format!("{city}{}所", x.1),
                        "www.avic.com".into(),
                        "12",
                        Kind::Institute,
                        "所长",
                    )
                }
                _ => {
                    let b = rng.pick(BRANDS);
                    let x = rng.pick(DEFENCE);
                    named(
                        format!("{city}{}{}有限公司", b.0, x.0),
                        format!("{}{}", b.0, x.1),
                        format!("www.{}{}.com", c.slug, b.1),
                        "91",
                        Kind::Company,
                        "总经理",
                    )
                }
            }
        }
        Industry::Enterprise | Industry::Other if ind == Industry::Enterprise || rng.pct(20) => {
            let b = rng.pick(BRANDS);
            let x = rng.pick(BUSINESSES);
            let suffix = ["有限公司", "股份有限公司", "集团有限公司"][rng.weighted(&[60, 25, 15])];
            let boss = if rng.pct(30) { "董事长" } else { "总经理" };
            named(
                format!("{city}{}{}{suffix}", b.0, x.0),
                format!("{}{}", b.0, x.1),
                format!("www.{}{}.com", c.slug, b.1),
                "91",
                Kind::Company,
                boss,
            )
        }
        Industry::Education => match rng.weighted(&[40, 30, 15, 15]) {
            0 => {
                let un = rng.pick(c.universities);
                named(un.0.into(), un.1.into(), un.2.into(), "12", Kind::University, "校长")
            }
            1 => {
                let n = rng.range(1, 60) as u32;
                named(
                    format!("{city}市第{}中学", cn(n)),
                    format!("{city}{}中", cn(n)),
                    format!("www.{}{n}z.cn", c.slug),
                    "12",
                    Kind::School,
                    "校长",
                )
            }
            2 => {
                let f = rng.pick(VOC_FIELDS);
                named(
                    format!("{city}{}职业技术学院", f.0),
                    format!("{city}{}职院", f.0),
                    format!("www.{}{}.edu.cn", c.slug, f.1),
                    "12",
                    Kind::University,
                    "院长",
                )
            }
            _ => named(
                format!("{city}市{}实验学校", d.0),
                format!("{}实验学校", d.1),
                format!("www.{}{}sy.cn", c.slug, d.2),
                "12",
                Kind::School,
                "校长",
            ),
        },
        Industry::Finance => match rng.weighted(&[55, 30, 15]) {
            0 => {
                let b = rng.pick(BANKS);
                named(format!("{}{city}分行", b.0), format!("{}{city}分行", b.1), b.2.into(), "91", Kind::Bank, "行长")
            }
            1 => {
                let b = rng.pick(INSURERS);
                named(
                    format!("{}{city}分公司", b.0),
                    format!("{}{city}", b.1),
                    b.2.into(),
                    "91",
                    Kind::Company,
                    "总经理",
                )
            }
            _ => {
                if c.city_bank && rng.pct(50) {
                    named(
                        format!("{city}银行股份有限公司"),
                        format!("{city}银行"),
                        format!("www.{}bank.com.cn", c.py),
                        "91",
                        Kind::Bank,
                        "行长",
                    )
                } else {
                    named(
                        format!("{city}农村商业银行股份有限公司"),
                        format!("{city}农商行"),
                        format!("www.{}rcb.com", c.slug),
                        "91",
                        Kind::Bank,
                        "行长",
                    )
                }
            }
        },
        Industry::Power => match rng.weighted(&[15, 35, 30, 20]) {
            0 => named(c.grid.0.into(), c.grid.1.into(), c.grid.2.into(), "91", Kind::Company, "总经理"),
            1 => {
                let name = if c.municipal {
                    format!("{}{}供电公司", c.grid.0, d.1)
                } else {
                    format!("{}{city}{}供电分公司", c.grid.0, d.1)
                };
                named(name, format!("{}供电", d.1), c.grid.2.into(), "91", Kind::Company, "总经理")
            }
            2 => {
                let g = rng.pick(GENERATORS);
                let p = rng.pick(PLANTS);
                named(
                    format!("{}{city}{p}有限责任公司", g.0),
                    format!("{}{city}{p}", g.1),
                    g.2.into(),
                    "91",
                    Kind::Company,
                    "总经理",
                )
            }
            _ => {
                let b = rng.pick(BRANDS);
                let (x, xs, h) = *rng.pick(&[
                    ("电力工程", "电力", "power"),
                    ("能源科技", "能源", "energy"),
                    ("电气", "电气", "elec"),
                ]);
                named(
                    format!("{city}{}{x}有限公司", b.0),
                    format!("{}{xs}", b.0),
                    format!("www.{}{}{h}.com", c.slug, b.1),
                    "91",
                    Kind::Company,
                    "总经理",
                )
            }
        },
        Industry::Telecom => {
            let (name, short, host) = match rng.weighted(&[15, 20, 20, 10, 20, 15]) {
                0 => (
                    format!("中国移动通信集团{}有限公司", c.prov_short),
                    format!("{}移动", c.prov_short),
                    "www.10086.cn".to_string(),
                ),
                1 => (format!("中国电信股份有限公司{city}分公司"), format!("{city}电信"), "www.189.cn".to_string()),
                2 => (
                    format!("中国联合网络通信有限公司{city}市分公司"),
                    format!("{city}联通"),
                    "www.10010.com".to_string(),
                ),
                3 => (
                    format!("中国铁塔股份有限公司{city}市分公司"),
                    format!("{city}铁塔"),
                    "www.china-tower.com".to_string(),
                ),
                4 => {
                    let place = if c.municipal { d.1 } else { city };
                    (
                        format!("中国移动通信集团{}有限公司{place}分公司", c.prov_short),
                        format!("{place}移动"),
                        "www.10086.cn".to_string(),
                    )
                }
                _ => {
                    let b = rng.pick(BRANDS);
                    (
                        format!("{city}{}通信技术有限公司", b.0),
                        format!("{}通信", b.0),
                        format!("www.{}{}tx.com", c.slug, b.1),
                    )
                }
            };
            named(name, short, host, "91", Kind::Company, "总经理")
        }
        // Industry::Other (and the remaining arms, which cannot occur).
        _ => match rng.weighted(&[30, 15, 30, 25]) {
            0 => {
                let n = rng.range(1, 12) as u32;
                named(
                    format!("{city}市第{}人民医院", cn(n)),
                    format!("{city}{}院", cn(n)),
                    format!("www.{}{n}yy.com", c.slug),
                    "12",
                    Kind::Hospital,
                    "院长",
                )
            }
            1 => named(
                format!("{city}市{}人民医院", d.0),
                format!("{}医院", d.1),
                format!("www.{}{}hospital.com", c.slug, d.2),
                "12",
                Kind::Hospital,
                "院长",
            ),
            2 => {
                let s = rng.pick(CITY_SOES);
                named(
                    format!("{city}{}", s.0),
                    format!("{city}{}", s.1),
                    format!("www.{}{}.com", c.py, s.2),
                    "91",
                    Kind::Company,
                    "总经理",
                )
            }
            _ => {
                let m = rng.pick(MEDIA);
                named(
                    format!("{city}{}", m.0),
                    format!("{city}{}", m.1),
                    format!("www.{}{}.cn", c.py, m.2),
                    "12",
                    Kind::Media,
                    m.3,
                )
            }
        },
    };
    n.district = d.0;
    n
}

fn credit_code(rng: &mut Rng, code_type: &str, division: &str, used: &mut HashSet<String>) -> anyhow::Result<String> {
    loop {
        let mut org = String::with_capacity(9);
        if code_type == "91" && rng.pct(60) {
            org.push_str("MA");
            for _ in 0..7 {
                org.push(*rng.pick(CHARSET) as char);
            }
        } else {
            for _ in 0..8 {
                org.push((b'0' + rng.below(10) as u8) as char);
            }
            org.push(*rng.pick(CHARSET) as char);
        }
        let first17 = format!("{code_type}{division}{org}");
        let code = CreditCode::complete(&first17).with_context(|| format!("credit code from {first17}"))?;
        if used.insert(code.as_str().to_string()) {
            return Ok(code.as_str().to_string());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Buying committees.

struct Staff {
    boss_dept: &'static str,
    policy: (&'static str, &'static str),
    influencer: (&'static str, &'static str),
    end_user: (&'static str, &'static str),
    gatekeeper: (&'static str, &'static str),
    end_user2: (&'static str, &'static str),
}

fn staff(kind: Kind, rng: &mut Rng) -> Staff {
    match kind {
        Kind::Gov => Staff {
            boss_dept: "领导班子",
            policy: *rng.pick(&[("办公室", "主任"), ("财务科", "科长"), ("规划财务科", "科长")]),
            influencer: ("信息中心", "主任"),
            end_user: ("信息中心", "工程师"),
            gatekeeper: ("办公室", "秘书"),
            end_user2: ("综合业务科", "科长"),
        },
        Kind::University => Staff {
            boss_dept: "校领导",
            policy: ("招标采购管理中心", "主任"),
            influencer: ("网络与信息中心", "主任"),
            end_user: ("网络与信息中心", "高级工程师"),
            gatekeeper: ("校长办公室", "秘书"),
            end_user2: ("计算机学院", "教授"),
        },
        Kind::School => Staff {
            boss_dept: "校领导",
            policy: ("总务处", "主任"),
            influencer: ("信息技术中心", "主任"),
            end_user: ("信息技术中心", "信息技术教师"),
            gatekeeper: ("校长办公室", "干事"),
            end_user2: ("教务处", "主任"),
        },
        Kind::Institute => Staff {
            boss_dept: "所领导",
            policy: ("物资采购部", "部长"),
            influencer: *rng.pick(&[("信息化处", "处长"), ("科技委", "总工程师")]),
            end_user: ("研发一室", "高级工程师"),
            gatekeeper: ("所办公室", "秘书"),
            end_user2: ("总体设计部", "主任设计师"),
        },
        Kind::Bank => Staff {
            boss_dept: "行领导",
            policy: *rng.pick(&[("集中采购中心", "主任"), ("办公室", "主任")]),
            influencer: ("信息科技部", "总经理"),
            end_user: ("信息科技部", "系统管理员"),
            gatekeeper: ("行长办公室", "秘书"),
            end_user2: ("运营管理部", "经理"),
        },
        Kind::Company => Staff {
            boss_dept: "公司领导",
            policy: *rng.pick(&[("采购部", "经理"), ("采购中心", "主任"), ("采购部", "主任")]),
            influencer: *rng.pick(&[("信息中心", "主任"), ("技术部", "技术总监")]),
            end_user: ("信息中心", "系统工程师"),
            gatekeeper: ("总经理办公室", "秘书"),
            end_user2: ("运维部", "经理"),
        },
        Kind::Hospital => Staff {
            boss_dept: "院领导",
            policy: *rng.pick(&[("设备处", "处长"), ("采购中心", "主任")]),
            influencer: ("信息科", "科长"),
            end_user: ("信息科", "工程师"),
            gatekeeper: ("院长办公室", "秘书"),
            end_user2: ("医务处", "处长"),
        },
        Kind::Media => Staff {
            boss_dept: "领导班子",
            policy: ("办公室", "主任"),
            influencer: ("技术中心", "主任"),
            end_user: ("技术中心", "工程师"),
            gatekeeper: ("办公室", "秘书"),
            end_user2: ("融媒体中心", "主任"),
        },
    }
}

fn person(rng: &mut Rng, male_pct: u64) -> (String, Gender, String) {
    let s = *rng.pick(SURNAMES);
    let male = rng.pct(male_pct);
    let g = if male { *rng.pick(MALE_NAMES) } else { *rng.pick(FEMALE_NAMES) };
    let gender = if male { Gender::Male } else { Gender::Female };
    (format!("{}{}", s.0, g.0), gender, format!("{}{}", s.1, g.1))
}

fn date(rng: &mut Rng, y0: i64, y1: i64) -> String {
    format!("{:04}-{:02}-{:02}", rng.range(y0, y1), rng.range(1, 12), rng.range(1, 28))
}

#[allow(clippy::too_many_arguments)]
fn contact(
    rng: &mut Rng,
    used: &mut HashSet<String>,
    domain: &str,
    (male_pct, born): (u64, (i64, i64)),
    dept: &str,
    title: &str,
    role: DecisionRole,
    reports_to: Option<i64>,
) -> ContactData {
    let (mut name, mut gender, mut py) = person(rng, male_pct);
    while !used.insert(name.clone()) {
        (name, gender, py) = person(rng, male_pct);
    }
    let attitude = [Attitude::Supporter, Attitude::Neutral, Attitude::Opponent][rng.weighted(&[40, 45, 15])];
    let relationship = match attitude {
        Attitude::Supporter => rng.range(3, 5),
        Attitude::Neutral => rng.range(2, 4),
        Attitude::Opponent => rng.range(1, 2),
    };
    let mut interests: Vec<&str> = Vec::new();
    for _ in 0..rng.range(1, 3) {
        let i = *rng.pick(INTERESTS);
        if !interests.contains(&i) {
            interests.push(i);
        }
    }
    let email_domain = domain.strip_prefix("www.").unwrap_or(domain);
    ContactData {
        name,
        gender: Some(gender.code().into()),
        birthday: Some(date(rng, born.0, born.1)),
        department: Some(dept.into()),
        title: Some(title.into()),
        reports_to,
        decision_role: Some(role.code().into()),
        attitude: Some(attitude.code().into()),
        relationship: Some(relationship),
        interests: Some(interests.join("、")),
        phone: Some(format!("1{}{:08}", rng.pick(MOBILE_PREFIXES), rng.below(100_000_000))),
        email: Some(format!("{py}@{email_domain}")),
        last_contact_on: Some(format!("2026-{:02}-{:02}", rng.range(1, 10), rng.range(1, 28))),
    }
}

async fn add_contact(tx: &mut WriteTx, ctx: &Ctx, account_id: i64, c: &ContactData) -> anyhow::Result<i64> {
    contacts::insert(tx, ctx, account_id, c).await.with_context(|| format!("contact {}", c.name))
}

/// Share of men and birth years by position in the committee.
const BOSS: (u64, (i64, i64)) = (75, (1962, 1975));
const HEAD: (u64, (i64, i64)) = (60, (1968, 1986));
const STAFF: (u64, (i64, i64)) = (55, (1980, 1998));
const ASSISTANT: (u64, (i64, i64)) = (30, (1986, 2000));

/// Inserts a buying committee of 3–6 people; bosses first so reports_to can point at them.
async fn insert_committee(
    tx: &mut WriteTx,
    ctx: &Ctx,
    rng: &mut Rng,
    account_id: i64,
    n: &Named,
) -> anyhow::Result<()> {
    let st = staff(n.kind, rng);
    let size = rng.range(3, 6);
    let mut used = HashSet::new();
    let h = n.host.as_str();
    let c = contact(rng, &mut used, h, BOSS, st.boss_dept, n.boss_title, DecisionRole::DecisionMaker, None);
    let boss = add_contact(tx, ctx, account_id, &c).await?;
    let c = contact(rng, &mut used, h, HEAD, st.policy.0, st.policy.1, DecisionRole::PolicyMaker, Some(boss));
    let policy = add_contact(tx, ctx, account_id, &c).await?;
    let c = contact(rng, &mut used, h, HEAD, st.influencer.0, st.influencer.1, DecisionRole::Influencer, Some(boss));
    let influencer = add_contact(tx, ctx, account_id, &c).await?;
    if size >= 4 {
        let c =
            contact(rng, &mut used, h, STAFF, st.end_user.0, st.end_user.1, DecisionRole::EndUser, Some(influencer));
        add_contact(tx, ctx, account_id, &c).await?;
    }
    if size >= 5 {
        let c = contact(
            rng,
            &mut used,
            h,
            ASSISTANT,
            st.gatekeeper.0,
            st.gatekeeper.1,
            DecisionRole::Gatekeeper,
            Some(boss),
        );
        add_contact(tx, ctx, account_id, &c).await?;
    }
    if size >= 6 {
        let above = if rng.pct(50) { influencer } else { policy };
        let c = contact(rng, &mut used, h, STAFF, st.end_user2.0, st.end_user2.1, DecisionRole::EndUser, Some(above));
        add_contact(tx, ctx, account_id, &c).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Accounts.

/// Industries of one branch's 30 accounts, before shuffling.
const INDUSTRY_MIX: &[(Industry, usize)] = &[
    (Industry::Enterprise, 7),
    (Industry::Government, 5),
    (Industry::Education, 4),
    (Industry::Finance, 4),
    (Industry::Military, 3),
    (Industry::Power, 2),
    (Industry::Telecom, 2),
    (Industry::Other, 3),
];

/// BP and trailing-12-month sales in fen for a level and status; None for "no buying power".
fn money(rng: &mut Rng, level: Level, status: Status) -> (Option<i64>, Option<i64>) {
    if level == Level::L3 && status == Status::Prospect && rng.pct(9) {
        return (None, None);
    }
    let col = match level {
        Level::L1 => rng.weighted(&[90, 10, 0]),
        Level::L2 => rng.weighted(&[35, 45, 20]),
        Level::L3 => rng.weighted(&[10, 25, 65]),
    };
    let row = match status {
        Status::KeyAccount => rng.weighted(&[45, 40, 15]),
        Status::Candidate => rng.weighted(&[15, 45, 40]),
        Status::Prospect => rng.weighted(&[6, 26, 68]),
        Status::Downgraded => rng.weighted(&[10, 40, 50]),
    };
    let bp_yuan = match (col, level) {
        (0, Level::L1) => rng.range(3_000, 60_000) * 1000,
        (0, _) => rng.range(1_050, 8_000) * 1000,
        (1, _) => rng.range(500, 1000) * 1000,
        _ => rng.range(60, 480) * 1000,
    };
    let per_mille = match row {
        0 => rng.range(520, 880),
        1 => rng.range(110, 490),
        _ => {
            if rng.pct(25) {
                0
            } else {
                rng.range(5, 95)
            }
        }
    };
    let sales_yuan = bp_yuan * per_mille / 1000 / 100 * 100;
    (Some(bp_yuan * 100), Some(sales_yuan * 100))
}

const OPP_KINDS: &[&str] = &[
    "数据中心扩容项目",
    "服务器升级改造项目",
    "IT设备年度框架采购项目",
    "云平台新建项目",
    "运维服务续约项目",
    "信创替代试点项目",
];
const COMPETITORS: &[&str] = &["华为", "新华三", "浪潮", "中兴", "神州数码", "锐捷"];
const LOST_REASONS: &[&str] = &["价格高于竞争对手", "技术方案未获认可", "客户预算取消", "关系覆盖不足"];

/// The rows that follow an opportunity (its stage history and the criteria checked), written
/// with multi-row statements.
struct OppRows {
    history: Inserter,
    checks: Inserter,
}

impl OppRows {
    fn new(tx: &WriteTx) -> OppRows {
        OppRows {
            history: Inserter::new(
                tx.backend(),
                "INSERT INTO opportunity_history (opportunity_id, at, actor, from_stage, stage, amount, expected_close, reason, override) VALUES ",
                vec![],
                9,
            ),
            checks: Inserter::new(
                tx.backend(),
                "INSERT INTO opportunity_checks (opportunity_id, item, checked_by, checked_at) VALUES ",
                vec![],
                4,
            ),
        }
    }
    async fn flush(&mut self, tx: &mut WriteTx) -> anyhow::Result<()> {
        self.history.flush(tx).await?;
        self.checks.flush(tx).await?;
        Ok(())
    }
}

/// Where an opportunity stands: its stage, amount, dates and, when won, the booking.
struct Deal {
    stage: crate::domain::opportunity::Stage,
    amount: i64,
    start: NaiveDate,
    close: NaiveDate,
    /// Booked amount and date (won); drawn from the amount when None.
    booked: Option<(i64, NaiveDate)>,
}

/// An opportunity of the demo company: established some weeks ago, moved stage by stage (each
/// move in the history with its date, the stages' criteria checked), in every stage of the
/// funnel across the company. Written directly, as a loader; the rules it follows are the app's.
#[allow(clippy::too_many_arguments)]
async fn add_opportunity(
    tx: &mut WriteTx,
    rows: &mut OppRows,
    rng: &mut Rng,
    account_id: i64,
    account_short: &str,
    owner_id: i64,
    owner: &str,
) -> anyhow::Result<()> {
    use crate::domain::opportunity::Stage;
    let stage = Stage::ALL[rng.weighted(&[26, 20, 16, 12, 8, 10, 8])];
    let amount = rng.range(10, 600) * 1_000_000; // 100,000 – 6,000,000 yuan, in fen
    let today = chrono::Utc::now().date_naive();
    let start = today - chrono::Duration::days(rng.range(20, 200));
    let close = if stage.is_open() {
        today + chrono::Duration::days(rng.range(10, 180))
    } else {
        start + chrono::Duration::days(rng.range(15, 120)).min(today - start)
    };
    let deal = Deal { stage, amount, start, close, booked: None };
    write_opportunity(tx, rows, rng, account_id, account_short, owner_id, owner, deal).await
}

/// Writes one opportunity with its path through the funnel. Its name is the account's short
/// name, the year and the project: 「北京电力 2027 年数据中心扩容项目」.
#[allow(clippy::too_many_arguments)]
async fn write_opportunity(
    tx: &mut WriteTx,
    rows: &mut OppRows,
    rng: &mut Rng,
    account_id: i64,
    account_short: &str,
    owner_id: i64,
    owner: &str,
    deal: Deal,
) -> anyhow::Result<()> {
    use crate::db::bulk::v;
    use crate::domain::opportunity::{Stage, OPEN};
    let Deal { stage, amount, start, close, booked: fixed } = deal;
    let today = chrono::Utc::now().date_naive();
    let name = format!("{account_short} {} 年{}", close.year(), rng.pick(OPP_KINDS));
    let ts = |d: chrono::NaiveDate| format!("{}T09:00:00.000000Z", d.format("%Y-%m-%d"));
    let (booked, booked_on) = match (stage == Stage::Won, fixed) {
        (true, Some((b, on))) => (Some(b), Some(on.format("%Y-%m-%d").to_string())),
        (true, None) => (Some(amount / 100 * rng.range(85, 100)), Some(close.format("%Y-%m-%d").to_string())),
        _ => (None, None),
    };
    let (lost_reason, lost_to) = if stage == Stage::Lost {
        (Some(rng.pick(LOST_REASONS).to_string()), Some(rng.pick(COMPETITORS).to_string()))
    } else {
        (None, None)
    };
    let id: i64 = sqlx::query(
        "INSERT INTO opportunities (account_id, name, amount, currency, expected_close, stage, probability, owner_id, \
         products, business_unit, competitors, source, next_step, eval_need, eval_budget, eval_timeline, \
         eval_decision_makers, booked_amount, booked_on, lost_reason, lost_to, established_at, version, created_at, updated_at) \
         VALUES ($1, $2, $3, 'CNY', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, 1, $21, $22) RETURNING id",
    )
    .bind(account_id)
    .bind(name.clone())
    .bind(amount)
    .bind(close.format("%Y-%m-%d").to_string())
    .bind(stage.code())
    .bind(stage.probability())
    .bind(owner_id)
    .bind(rng.pick(BUSINESS_UNITS).to_string())
    .bind(rng.pick(BUSINESS_UNITS).to_string())
    .bind(format!("{}、{}", rng.pick(COMPETITORS), rng.pick(COMPETITORS)))
    .bind(["客户来电", "拜访发现", "招标公告", "合作伙伴推荐"][rng.weighted(&[20, 45, 20, 15])])
    .bind(stage.is_open().then_some("安排技术交流"))
    .bind("现有系统容量与性能不足，需要扩展")
    .bind("已列入本年度信息化预算")
    .bind("预计本季度内决策")
    .bind("信息中心主任、分管副总")
    .bind(booked)
    .bind(booked_on)
    .bind(lost_reason.clone())
    .bind(lost_to)
    .bind(ts(start))
    .bind(ts(today))
    .fetch_one(tx.conn())
    .await
    .with_context(|| format!("opportunity {name}"))?
    .try_get("id")?;
    // The path through the funnel: open stages up to where it stands (lost leaves from one).
    let last = match stage {
        Stage::Won => 4,
        Stage::Lost => rng.range(0, 3) as usize,
        s => s.rank().unwrap_or(0),
    };
    let mut steps: Vec<Stage> = OPEN[..=last].to_vec();
    if !stage.is_open() {
        steps.push(stage);
    }
    let span = (close.min(today) - start).num_days().max(steps.len() as i64);
    let mut from: Option<Stage> = None;
    for (k, st) in steps.iter().enumerate() {
        let at = start + chrono::Duration::days(span * k as i64 / steps.len() as i64);
        let reason = (*st == Stage::Lost).then(|| lost_reason.clone()).flatten();
        rows.history
            .row(
                tx,
                vec![
                    v(id),
                    v(ts(at)),
                    v(owner),
                    v(from.map(|f| f.code())),
                    v(st.code()),
                    v(if *st == Stage::Won { booked.unwrap_or(amount) } else { amount }),
                    v(close.format("%Y-%m-%d").to_string()),
                    v(reason),
                    v(0i64),
                ],
            )
            .await?;
        // Leaving a stage forward means its criteria were met.
        if let Some(prev) = from.filter(|p| p.is_open() && st.rank() > p.rank()) {
            for item in prev.criteria() {
                rows.checks.row(tx, vec![v(id), v(*item), v(owner), v(ts(at))]).await?;
            }
        }
        from = Some(*st);
    }
    Ok(())
}

/// How a year's quota spreads over its months, in percent of the salesperson's base: a quieter
/// first quarter, a busy end of the year.
const SEASON: [i64; 12] = [80, 80, 95, 95, 100, 105, 95, 95, 105, 105, 115, 130];

/// The salespeople's year: a monthly revenue quota for each salesperson and region for the
/// whole of this year; deals won in each of the last eight weeks and so far this month (booked
/// on their day); outside sales' deals expected in the rest of this month (developed or
/// committed); and the 4-week forecast each salesperson submitted on the Monday of each of the
/// last eight weeks, near what they then booked, so the accuracy shows. A team's quota is the sum
/// of its people's (the V-value report adds them up); the region's own is a tenth above its
/// people's. This month's quota stays above what is booked, so the V value is a figure.
async fn add_sales_year(
    tx: &mut WriteTx,
    rows: &mut OppRows,
    rng: &mut Rng,
    user_ids: &HashMap<&str, i64>,
    org_ids: &HashMap<&str, i64>,
) -> anyhow::Result<()> {
    use crate::db::bulk::v;
    use crate::domain::opportunity::Stage;
    let today = Utc::now().date_naive();
    let year = today.year();
    let this_week = act::monday(today);
    let month_start = today.with_day(1).context("first of the month")?;
    let next_month = month_start.checked_add_months(chrono::Months::new(1)).context("next month")?;
    let month_end = next_month - Duration::days(1);
    let this_month = today.month0() as usize;
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();

    // The accounts each salesperson works: owned (outside sales) or held as inside owner.
    let mut books: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for r in sqlx::query("SELECT id, name, short_name, owner_id, inside_owner_id FROM accounts ORDER BY id")
        .fetch_all(tx.conn())
        .await?
    {
        let name: String = r.try_get("name")?;
        if name == SPECIAL_ACCOUNT {
            continue; // its figures stay as the end-to-end tests know them
        }
        let short: Option<String> = r.try_get("short_name")?;
        let a = (r.try_get::<i64, _>("id")?, short.unwrap_or(name));
        for col in ["owner_id", "inside_owner_id"] {
            if let Some(u) = r.try_get::<Option<i64>, _>(col)? {
                books.entry(u).or_default().push(a.clone());
            }
        }
    }

    let mut quota_rows: Vec<(i64, [i64; 12])> = vec![]; // user, monthly quota in fen
    let mut region_quota: HashMap<&str, [i64; 12]> = HashMap::new();
    let mut booked: Vec<(i64, &str, HashMap<NaiveDate, i64>)> = vec![]; // user, username, by week
    for spec in USERS.iter().filter(|u| u.sales_type.is_some()) {
        let uid = user_ids.get(spec.username).copied().with_context(|| format!("demo user {}", spec.username))?;
        let outside = spec.sales_type == AE;
        let region = CITIES.iter().find(|c| c.branch == spec.org).map(|c| c.region).context("salesperson's region")?;
        // Base monthly quota in units of 10,000 yuan; deal sizes likewise.
        let base = if spec.username == "rep" {
            360
        } else if outside {
            rng.range(300, 420)
        } else {
            rng.range(80, 120)
        };
        let (lo, hi) = if outside { (20, 90) } else { (3, 15) };
        let mut months = [0i64; 12];
        for (m, pct) in SEASON.iter().enumerate() {
            months[m] = base * pct / 100 * 1_000_000;
        }
        let book = books.get(&uid).cloned().unwrap_or_default();
        let mut by_week: HashMap<NaiveDate, i64> = HashMap::new();
        if !book.is_empty() {
            let mut won_days: Vec<NaiveDate> = vec![];
            for k in 1..=8 {
                let w = this_week - Duration::days(7 * k);
                for _ in 0..rng.range(1, 2) {
                    won_days.push(w + Duration::days(rng.range(0, 4)));
                }
            }
            for _ in 0..rng.range(1, 2) {
                won_days.push(month_start + Duration::days(rng.range(0, (today - month_start).num_days())));
            }
            for d in won_days {
                let (account, short) = rng.pick(&book).clone();
                let amount = rng.range(lo, hi) * 1_000_000;
                let amount_booked = amount / 100 * rng.range(90, 100);
                *by_week.entry(act::monday(d)).or_default() += amount_booked;
                let deal = Deal {
                    stage: Stage::Won,
                    amount,
                    start: d - Duration::days(rng.range(30, 120)),
                    close: d,
                    booked: Some((amount_booked, d)),
                };
                write_opportunity(tx, rows, rng, account, &short, uid, spec.username, deal).await?;
            }
            if outside {
                for _ in 0..2 {
                    let (account, short) = rng.pick(&book).clone();
                    let deal = Deal {
                        stage: [Stage::Developed, Stage::Committed][rng.weighted(&[50, 50])],
                        amount: rng.range(lo * 2, hi * 2) * 1_000_000,
                        start: today - Duration::days(rng.range(30, 90)),
                        close: today + Duration::days(rng.range(0, (month_end - today).num_days())),
                        booked: None,
                    };
                    write_opportunity(tx, rows, rng, account, &short, uid, spec.username, deal).await?;
                }
            }
        }
        // This month's quota stays above what is booked in it (older won deals included).
        let booked_now: i64 = sqlx::query(
            "SELECT CAST(COALESCE(SUM(booked_amount), 0) AS BIGINT) AS n FROM opportunities \
             WHERE owner_id = $1 AND stage = 'won' AND booked_on >= $2 AND booked_on < $3",
        )
        .bind(uid)
        .bind(day(month_start))
        .bind(day(next_month))
        .fetch_one(tx.conn())
        .await?
        .try_get("n")?;
        months[this_month] = months[this_month].max((booked_now * 3 / 2 / 1_000_000 + 1) * 1_000_000);
        let r = region_quota.entry(region).or_insert([0; 12]);
        for m in 0..12 {
            r[m] += months[m];
        }
        quota_rows.push((uid, months));
        booked.push((uid, spec.username, by_week));
    }

    let now = crate::db::now();
    let mut quotas = Inserter::new(
        tx.backend(),
        "INSERT INTO quotas (month, user_id, org_unit_id, amount, version, created_at, updated_at) VALUES ",
        vec![],
        7,
    );
    for (uid, months) in &quota_rows {
        for (m, amount) in months.iter().enumerate() {
            let month = format!("{year}-{:02}", m + 1);
            quotas
                .row(tx, vec![v(month), v(*uid), v(None::<i64>), v(*amount), v(1i64), v(now.clone()), v(now.clone())])
                .await?;
        }
    }
    for (region, months) in &region_quota {
        let org = org_ids.get(region).copied().context("region")?;
        for (m, amount) in months.iter().enumerate() {
            let month = format!("{year}-{:02}", m + 1);
            let amount = amount * 11 / 10 / 10_000_000 * 10_000_000; // rounded to 100,000 yuan
            quotas
                .row(tx, vec![v(month), v(None::<i64>), v(org), v(amount), v(1i64), v(now.clone()), v(now.clone())])
                .await?;
        }
    }
    quotas.flush(tx).await?;

    // Forecasts: submitted on the Monday morning of each of the last eight weeks.
    let mut lines = Inserter::new(
        tx.backend(),
        "INSERT INTO forecast_lines (forecast_id, target_week, commit_amount, best_amount) VALUES ",
        vec![],
        4,
    );
    for (uid, username, by_week) in &booked {
        for k in (1..=8).rev() {
            let week = this_week - Duration::days(7 * k);
            let id: i64 = sqlx::query(
                "INSERT INTO forecasts (user_id, week, submitted_at, submitted_by) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(*uid)
            .bind(day(week))
            .bind(ts(local_at(week, 9 * 60 + 30)))
            .bind(*username)
            .fetch_one(tx.conn())
            .await?
            .try_get("id")?;
            for j in 0..4 {
                let target = week + Duration::days(7 * j);
                let actual = by_week.get(&target).copied().unwrap_or(0);
                // The nearer the week, the nearer the commit; in units of 10,000 yuan.
                let spread = 15 + 10 * j;
                let commit = if actual > 0 || rng.pct(30) {
                    let guess = actual.max(rng.range(10, 40) * 1_000_000);
                    guess / 100 * rng.range(100 - spread, 100 + spread) / 1_000_000 * 1_000_000
                } else {
                    0
                };
                let best = commit / 100 * rng.range(110, 160) / 1_000_000 * 1_000_000;
                lines.row(tx, vec![v(id), v(day(target)), v(commit), v(best.max(commit))]).await?;
            }
        }
    }
    lines.flush(tx).await?;
    Ok(())
}

/// Raises the buying power of every account whose trailing sales (entered plus won in the last
/// twelve months) exceed it, to a tenth above them: the share of wallet is at most 100 %.
async fn cap_share_of_wallet(tx: &mut WriteTx) -> anyhow::Result<()> {
    let start = crate::app::classification::classify::window_start(Utc::now().date_naive());
    let rows = sqlx::query(
        "SELECT a.id, a.buying_power, a.sales_12m_entered, COALESCE(w.won, 0) AS won FROM accounts a \
         LEFT JOIN (SELECT account_id, CAST(SUM(COALESCE(booked_amount, amount)) AS BIGINT) AS won FROM opportunities \
             WHERE stage = 'won' AND deleted_at IS NULL AND booked_on > $1 GROUP BY account_id) w ON w.account_id = a.id \
         WHERE a.buying_power IS NOT NULL ORDER BY a.id",
    )
    .bind(start)
    .fetch_all(tx.conn())
    .await?;
    for r in rows {
        let bp: i64 = r.try_get("buying_power")?;
        let entered: Option<i64> = r.try_get("sales_12m_entered")?;
        let total = entered.unwrap_or(0) + r.try_get::<i64, _>("won")?;
        if total > bp {
            let raised = (total / 9 * 10 / 1_000_000 + 1) * 1_000_000; // rounded up to 10,000 yuan
            sqlx::query("UPDATE accounts SET buying_power = $1 WHERE id = $2")
                .bind(raised)
                .bind(r.try_get::<i64, _>("id")?)
                .execute(tx.conn())
                .await?;
        }
    }
    Ok(())
}

fn pick_some(rng: &mut Rng, pool: &[&str], lo: i64, hi: i64) -> String {
    let mut idx: Vec<usize> = (0..pool.len()).collect();
    rng.shuffle(&mut idx);
    let mut chosen: Vec<usize> = idx.into_iter().take(rng.range(lo, hi) as usize).collect();
    chosen.sort_unstable();
    chosen.iter().map(|&i| pool[i]).collect::<Vec<_>>().join(", ")
}

async fn count(tx: &mut WriteTx, table: &str) -> anyhow::Result<i64> {
    let r = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(tx.conn()).await?;
    Ok(r.try_get::<i64, _>("n")?)
}

/// Loads the demo company into an empty database in ONE transaction. Refuses (Err with a
/// one-line reason) when the database already has any user or account.
pub async fn load(db: &Db, password: &str) -> anyhow::Result<Vec<DemoUser>> {
    let mut tx = db.begin().await?;
    if count(&mut tx, "users").await? > 0 || count(&mut tx, "accounts").await? > 0 {
        bail!("the database already holds users or accounts; the demo company loads only into an empty database");
    }
    let ctx = Ctx::system();
    let mut rng = Rng::new(SEED);
    // Opportunities draw from their own sequence, so the accounts stay as they were without them.
    let mut orng = Rng::new(SEED ^ 0x6f70_7073);
    let mut opp_rows = OppRows::new(&tx);

    // Org tree.
    let mut org_ids: HashMap<&str, i64> = HashMap::new();
    org_ids.insert("HQ", org::insert(&mut tx, &ctx, "HQ", "总部", OrgKind::Hq, None).await.context("org unit HQ")?);
    for (code, name) in REGIONS {
        let id = org::insert(&mut tx, &ctx, code, name, OrgKind::Region, Some("HQ"))
            .await
            .with_context(|| format!("org unit {code}"))?;
        org_ids.insert(*code, id);
    }
    for c in CITIES {
        let id = org::insert(&mut tx, &ctx, c.branch, c.branch_name, OrgKind::Branch, Some(c.region))
            .await
            .with_context(|| format!("org unit {}", c.branch))?;
        org_ids.insert(c.branch, id);
    }

    // Users.
    let mut user_ids: HashMap<&str, i64> = HashMap::new();
    let mut made = Vec::with_capacity(USERS.len());
    for s in USERS {
        let id = users::insert(
            &mut tx,
            &ctx,
            &NewUser {
                username: s.username,
                display_name: s.display_name,
                role: s.role,
                org: s.org,
                manager: s.manager,
                sales_type: s.sales_type,
                password,
            },
        )
        .await
        .with_context(|| format!("user {}", s.username))?;
        user_ids.insert(s.username, id);
        made.push(DemoUser {
            username: s.username.into(),
            display_name: s.display_name.into(),
            role: s.role.code().into(),
            org_unit: s.org.into(),
        });
    }
    let uid = |name: &str| -> anyhow::Result<i64> {
        user_ids.get(name).copied().with_context(|| format!("demo user {name}"))
    };
    add_products(&mut tx, &ctx).await?;

    // Accounts with their committees and teams.
    let mut used_names: HashSet<String> = HashSet::from([SPECIAL_ACCOUNT.to_string()]);
    let mut used_codes: HashSet<String> = HashSet::new();
    let mut serial = 0usize;
    for c in CITIES {
        let (region_reps, region_manager) = region_people(c.region);
        let mut industries: Vec<Industry> = INDUSTRY_MIX.iter().flat_map(|&(i, n)| std::iter::repeat_n(i, n)).collect();
        debug_assert_eq!(industries.len(), ACCOUNTS_PER_BRANCH);
        rng.shuffle(&mut industries);
        let special_slot = if c.branch == "BJ" { Some(0) } else { None };
        if special_slot.is_some() {
            // The special account is an enterprise; keep the mix by moving one enterprise first.
            let pos = industries.iter().position(|&i| i == Industry::Enterprise).unwrap_or(0);
            industries.swap(0, pos);
        }
        for (i, &industry) in industries.iter().enumerate() {
            serial += 1;
            let special = special_slot == Some(i);
            let n = if special {
                named(
                    SPECIAL_ACCOUNT.into(),
                    "华信精密".into(),
                    "www.bjhuaxin.com".into(),
                    "91",
                    Kind::Company,
                    "总经理",
                )
            } else {
                let mut tries = 0;
                loop {
                    let n = gen_name(industry, c, &mut rng);
                    if used_names.insert(n.name.clone()) {
                        break n;
                    }
                    tries += 1;
                    if tries > 500 {
                        bail!("demo: cannot find a new {} name in {}", industry.code(), c.city);
                    }
                }
            };
            let (level, status) = if special {
                (Level::L2, Status::KeyAccount)
            } else {
                let level = [Level::L1, Level::L2, Level::L3][rng.weighted(&[10, 30, 60])];
                let status = match level {
                    Level::L1 => [Status::KeyAccount, Status::Candidate][rng.weighted(&[85, 15])],
                    Level::L2 => [Status::Prospect, Status::Candidate, Status::KeyAccount, Status::Downgraded]
                        [rng.weighted(&[20, 40, 25, 15])],
                    Level::L3 => [Status::Prospect, Status::Candidate, Status::KeyAccount, Status::Downgraded]
                        [rng.weighted(&[75, 10, 5, 10])],
                };
                (level, status)
            };
            let tier = (status == Status::KeyAccount).then(|| match level {
                Level::L1 => [Tier::Strategic, Tier::A][rng.weighted(&[40, 60])],
                Level::L2 => [Tier::A, Tier::B][rng.weighted(&[40, 60])],
                Level::L3 => [Tier::B, Tier::C][rng.weighted(&[40, 60])],
            });
            let (buying_power, sales_12m) = if special {
                (Some(86_000_000), Some(26_000_000)) // 860,000 yuan, 30%: D2
            } else {
                money(&mut rng, level, status)
            };
            let owner = if c.reps.len() > 1 { c.reps[if i % 5 < 3 { 0 } else { 1 }] } else { c.reps[0] };
            let inside = match (c.sr, level) {
                (Some(sr), Level::L3) if rng.pct(85) => Some(sr),
                (Some(sr), Level::L2) if special || rng.pct(30) => Some(sr),
                _ => None,
            };
            let enterprise = n.code_type == "91";
            let bank = matches!(n.kind, Kind::Bank);
            let (credit_grade, credit_limit, credit_score) = if special {
                (Some("yellow".to_string()), Some(15_000_000), Some(68))
            } else if rng.pct(90) {
                let grade = ["green", "yellow", "red", "black"][rng.weighted(&[75, 15, 7, 3])];
                let base = buying_power.unwrap_or(50_000_000);
                let share = match grade {
                    "green" => rng.range(15, 30),
                    "yellow" => rng.range(5, 12),
                    "red" => rng.range(1, 3),
                    _ => 0,
                };
                // Rounded to 10,000 yuan; at least 50,000 yuan (10,000 for red, none for black).
                let floor = match grade {
                    "green" | "yellow" => 5_000_000,
                    "red" => 1_000_000,
                    _ => 0,
                };
                let limit = (base * share / 100 / 1_000_000 * 1_000_000).max(floor);
                let score = match grade {
                    "green" => rng.range(75, 98),
                    "yellow" => rng.range(55, 74),
                    "red" => rng.range(30, 54),
                    _ => rng.range(5, 29),
                };
                (Some(grade.to_string()), Some(limit), Some(score))
            } else {
                (None, None, None)
            };
            let road = rng.pick(ROADS);
            let district = n.district;
            let address = if special {
                "北京市海淀区上地信息路12号".to_string()
            } else {
                format!("{}{}市{district}{road}{}号", c.prov, c.city, rng.range(1, 299))
            };
            let d = AccountData {
                name: n.name.clone(),
                short_name: Some(n.short.clone()),
                credit_code: Some(credit_code(&mut rng, n.code_type, c.division, &mut used_codes)?),
                industry: industry.code().into(),
                level: level.code().into(),
                region_id: Some(org_ids[c.region]),
                branch_id: Some(org_ids[c.branch]),
                owner_id: Some(uid(owner)?),
                inside_owner_id: inside.map(uid).transpose()?,
                ka_manager_id: if status == Status::KeyAccount { Some(uid(region_manager)?) } else { None },
                status: status.code().into(),
                // The tier is derived (key accounts only); these inputs are what the intended
                // tier rests on: margin, payment terms and expense ratio as such a customer has.
                tier: None,
                profit_margin_bp: Some(match tier {
                    Some(Tier::Strategic) => rng.range(2_500, 3_200),
                    Some(Tier::A) => rng.range(1_500, 2_400),
                    Some(Tier::B) => rng.range(800, 1_400),
                    _ => rng.range(200, 1_200),
                }),
                payment_terms_days: Some(match tier {
                    Some(Tier::Strategic) | Some(Tier::A) => 15,
                    Some(Tier::B) => 45,
                    _ => *rng.pick(&[30, 60, 90, 120]),
                }),
                expense_ratio_bp: Some(match tier {
                    Some(Tier::Strategic) | Some(Tier::A) => rng.range(100, 190),
                    Some(Tier::B) => rng.range(250, 390),
                    _ => rng.range(300, 900),
                }),
                address: Some(address),
                website: Some(format!("https://{}", n.host)),
                business_units: Some(pick_some(&mut rng, BUSINESS_UNITS, 2, 4)),
                buying_power,
                sales_12m_entered: sales_12m,
                notes: rng.pct(45).then(|| rng.pick(NOTES).to_string()),
                tags: Some(pick_some(&mut rng, TAGS, 1, 3)),
                current_asset_ratio_bp: enterprise.then(|| {
                    if bank {
                        rng.range(9_000, 13_000)
                    } else {
                        rng.range(8_000, 26_000)
                    }
                }),
                net_margin_bp: enterprise.then(|| if bank { rng.range(2_500, 4_200) } else { rng.range(-300, 2_200) }),
                roa_bp: enterprise.then(|| if bank { rng.range(50, 130) } else { rng.range(-150, 1_200) }),
                collection_days: Some(if enterprise { rng.range(30, 150) } else { rng.range(60, 240) }),
                inventory_days: (enterprise && !bank).then(|| rng.range(10, 120)),
                credit_grade,
                credit_limit,
                credit_score,
            };
            let account_id =
                accounts::insert(&mut tx, &ctx, &d).await.with_context(|| format!("account {}", d.name))?;
            if serial % 12 == 5 {
                let others: Vec<&str> = region_reps.iter().copied().filter(|&r| r != owner).collect();
                let mate = *rng.pick(&others);
                sqlx::query("INSERT INTO account_access (account_id, user_id, via) VALUES ($1, $2, $3)")
                    .bind(account_id)
                    .bind(uid(mate)?)
                    .bind("team")
                    .execute(tx.conn())
                    .await
                    .with_context(|| format!("team of {}", d.name))?;
            }
            insert_committee(&mut tx, &ctx, &mut rng, account_id, &n).await?;
            if special || orng.pct(40) {
                let k = if special { 3 } else { orng.range(1, 2) };
                for _ in 0..k {
                    add_opportunity(&mut tx, &mut opp_rows, &mut orng, account_id, &n.short, uid(owner)?, owner)
                        .await?;
                }
            }
        }
    }
    // The salespeople's year: quotas, deals won in the last weeks and this month, deals expected
    // this month, and the forecasts they submitted (drawn from a sequence of their own).
    let mut srng = Rng::new(SEED ^ 0x0073_616c_6573); // "sales"
    add_sales_year(&mut tx, &mut opp_rows, &mut srng, &user_ids, &org_ids).await?;
    opp_rows.flush(&mut tx).await?;
    cap_share_of_wallet(&mut tx).await?;
    // Team rows were added directly; derive who sees what once for the whole company.
    crate::app::customers::visibility::rebuild_all(tx.conn()).await?;
    // Opportunities were added directly too: the funnel's totals once, from them.
    crate::app::funnel::totals::rebuild_all(tx.conn()).await?;
    // And the months' booked actuals (the orders that follow are signed through the use cases).
    crate::app::funnel::months::rebuild_all(tx.conn()).await?;
    // Visits draw from a sequence of their own as well.
    let mut vrng = Rng::new(SEED ^ 0x7669_7369_7473); // "visits"
    add_visits(&mut tx, &mut vrng, &user_ids).await?;
    // Latest activities, activations, trailing sales with the won opportunities, classes.
    crate::app::classification::classify::rebuild_all(&mut tx).await?;
    // The key accounts have held their tiers for a year, so their service standards count
    // from their executive visits and technical exchanges (`add_visits`), and a few are overdue.
    sqlx::query("UPDATE accounts SET tier_since = $1 WHERE tier IS NOT NULL")
        .bind(ts(Utc::now() - Duration::days(365)))
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    overdue_screening(db, user_ids["rep"]).await?;
    demo_development(db, user_ids["rep"]).await?;
    demo_account_plans(db).await?;
    demo_suggestions(db, &user_ids).await?;
    demo_erased_contact(db, &user_ids).await?;
    demo_sales_plan(db, &user_ids).await?;
    demo_budgets(db, &user_ids).await?;
    demo_kpi(db, &user_ids).await?;
    demo_service(db, user_ids["rep"]).await?;
    demo_surveys(db).await?;
    // The demo's business history predates the credit check (issue 22): grades and limits are
    // put back once it is written, and one order is then held for credit.
    let credit = put_credit_aside(db).await?;
    demo_attainment(db, &user_ids).await?;
    demo_quotes(db, &user_ids).await?;
    demo_orders(db, &user_ids).await?;
    demo_receivables(db, &user_ids).await?;
    demo_promise(db, &user_ids).await?;
    demo_statement(db, &user_ids).await?;
    demo_deliveries(db, &user_ids).await?;
    demo_writeoffs(db, &user_ids).await?;
    bids_and_negotiations(db, user_ids["rep"]).await?;
    demo_holds(db, &user_ids).await?;
    put_credit_back(db, credit).await?;
    demo_credit(db, &user_ids).await?;
    demo_credit_hold(db, &user_ids).await?;
    demo_downgrade(db, &user_ids).await?;
    demo_credit_trigger(db, &user_ids).await?;
    Ok(made)
}

/// A credit review to file (issue 22, §13.4): the KA director proposed yesterday to review the
/// grade of one of the rep's green accounts (payments slowing); the rep's KA manager has it on
/// the list of triggers to file, one day left.
async fn demo_credit_trigger(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::credit::triggers;
    use crate::app::people::auth;
    let Some(account) = sqlx::query(
        "SELECT id FROM accounts WHERE owner_id = $1 AND credit_grade = 'green' AND deleted_at IS NULL \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(user_ids["rep"])
    .fetch_optional(&db.pool)
    .await?
    else {
        return Ok(());
    };
    let account: i64 = account.try_get("id")?;
    let caller = auth::load_caller(db, user_ids["director"]).await?.context("a demo user")?;
    let director = Ctx { caller, request_id: "demo".into() };
    let inp = triggers::CreditProposalIn {
        account_id: Some(account),
        proposed_grade: Some("yellow".into()),
        note: Some("近两个季度回款明显放缓，建议复核信用等级".into()),
    };
    triggers::propose(db, &director, &inp, crate::app::clock::now() - Duration::days(1))
        .await
        .map_err(|e| anyhow::anyhow!("demo credit trigger: {e}"))?;
    Ok(())
}

/// A downgraded key account with its history (issue 22): one of the rep's downgraded accounts
/// was screened in a year and a half ago and downgraded by the daily pass 40 days ago, when 2 of
/// its 4 installments due in 12 months had been paid in full on time.
async fn demo_downgrade(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    let acc: Option<i64> = sqlx::query(
        "SELECT id FROM accounts WHERE status = 'downgraded' AND deleted_at IS NULL \
         ORDER BY CASE WHEN owner_id = $1 THEN 0 ELSE 1 END, id LIMIT 1",
    )
    .bind(user_ids["rep"])
    .fetch_optional(&db.pool)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?;
    let Some(acc) = acc else { return Ok(()) };
    let figures = serde_json::json!({"due": 4, "fulfilled": 2, "rate": "50.00"}).to_string();
    let rows = [
        ("prospect", "candidate", "screening_submitted", None, "rep", 560),
        ("candidate", "key_account", "screening_approved", None, "director", 550),
        ("key_account", "downgraded", "fulfilment_below_75", Some(figures), "system", 40),
    ];
    let mut tx = db.begin().await?;
    for (from, to, reason, figures, by, days) in rows {
        sqlx::query(
            "INSERT INTO account_status_changes (account_id, from_status, to_status, reason, figures, changed_by, changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(acc)
        .bind(from)
        .bind(to)
        .bind(reason)
        .bind(figures)
        .bind(by)
        .bind(ts(Utc::now() - Duration::days(days)))
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The accounts' grades and limits, cleared while the demo's history is written.
async fn put_credit_aside(db: &Db) -> anyhow::Result<Vec<(i64, Option<String>, Option<i64>)>> {
    let kept = sqlx::query(
        "SELECT id, credit_grade, credit_limit FROM accounts WHERE credit_grade IS NOT NULL OR credit_limit IS NOT NULL",
    )
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("credit_grade")?, r.try_get("credit_limit")?)))
    .collect::<anyhow::Result<Vec<_>>>()?;
    sqlx::query("UPDATE accounts SET credit_grade = NULL, credit_limit = NULL").execute(&db.pool).await?;
    Ok(kept)
}

async fn put_credit_back(db: &Db, kept: Vec<(i64, Option<String>, Option<i64>)>) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    for (id, grade, limit) in kept {
        sqlx::query("UPDATE accounts SET credit_grade = $1, credit_limit = $2 WHERE id = $3")
            .bind(grade)
            .bind(limit)
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One order held for credit (issue 22): the rep's order of the special account (yellow, a
/// limit of 150,000 元) for 1,000,000 元 and more is held at submission; it waits on the holds
/// page for the finance manager or the KA director.
async fn demo_credit_hold(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::orders::orders as o;
    let caller = crate::app::people::auth::load_caller(db, user_ids["rep"]).await?.context("the demo rep")?;
    let rep = Ctx { caller, request_id: "demo".into() };
    let e = |e: crate::domain::DomainError| anyhow::anyhow!("demo credit hold: {e}");
    let account: i64 = sqlx::query("SELECT id FROM accounts WHERE name = $1")
        .bind(SPECIAL_ACCOUNT)
        .fetch_one(&db.pool)
        .await?
        .try_get("id")?;
    let inp: o::OrderIn = serde_json::from_value(serde_json::json!({
        "account_id": account,
        "contract_no": "HT-2026-1230",
        "lines": [
            {"product_code": "STO-AF800", "quantity": "3", "unit_price": "352000.00"},
            {"product_code": "SVC-INST", "quantity": "6", "unit_price": "2400.00"}
        ],
        "payment_terms": [
            {"kind": "advance", "percent": "30", "due": "0 days after order"},
            {"kind": "on_delivery", "percent": "70", "due": "30 days after invoice"}
        ]
    }))?;
    let v = o::create(db, &rep, o::Origin::Account(account), &inp).await.map_err(e)?;
    let v = o::submit(db, &rep, v.id, &o::Action { version: v.version, reason: None }).await.map_err(e)?;
    anyhow::ensure!(v.held_for_credit, "the demo's order over the limit is held for credit");
    Ok(())
}

/// Credit evaluations (issue 22): the KA director evaluated the special account and one account
/// of each grade, so the credit lists and an account's evaluation history show something; the
/// special account's evaluation was made twice (a year apart in the facts, the same day here).
async fn demo_credit(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::credit::evaluations::{self, BasicInfo, EvaluationIn};
    use crate::app::people::auth;
    let caller = auth::load_caller(db, user_ids["director"]).await?.context("a demo user")?;
    let director = Ctx { caller, request_id: "demo".into() };
    let e = |e: crate::domain::DomainError| anyhow::anyhow!("demo credit: {e}");
    let mut ids: Vec<(i64, i64)> = vec![];
    let special: i64 = sqlx::query("SELECT id FROM accounts WHERE name = $1")
        .bind(SPECIAL_ACCOUNT)
        .fetch_one(&db.pool)
        .await?
        .try_get("id")?;
    ids.push((special, 3));
    ids.push((special, 4));
    for (grade, mark) in [("green", 5), ("yellow", 4), ("red", 3), ("black", 2)] {
        let r = sqlx::query("SELECT id FROM accounts WHERE credit_grade = $1 AND id <> $2 ORDER BY id LIMIT 1")
            .bind(grade)
            .bind(special)
            .fetch_optional(&db.pool)
            .await?;
        if let Some(r) = r {
            ids.push((r.try_get("id")?, mark));
        }
    }
    for (n, (id, mark)) in ids.into_iter().enumerate() {
        let items = crate::domain::credit::ITEMS
            .iter()
            .enumerate()
            .map(|(i, (item, _))| (item.to_string(), (mark + ((i + n) % 3) as i64 - 1).clamp(0, 5)))
            .collect();
        let info = BasicInfo {
            legal_representative: Some(["王建国", "李红梅", "张志强", "陈晓峰", "刘丽娟", "赵永刚"][n % 6].into()),
            registered_capital: Some(format!("{}.00", 10_000_000 * (n as i64 + 1))),
            founded_on: Some(format!("{}-03-18", 1998 + n)),
            employees: Some(300 + 150 * n as i64),
            main_business: Some("工业自动化设备的研发、生产与销售".into()),
            bank_name: Some("中国工商银行".into()),
            bank_account: Some(format!("0200{:015}", 4_509_200_123_456u64 + n as u64)),
            revenue_last_year: Some(format!("{}.00", 80_000_000 * (n as i64 + 2))),
            total_assets: None,
            phone: None,
        };
        let inp =
            EvaluationIn { items, info, notes: Some("按信用等级评分表逐项评估；资料已收集".into()) };
        evaluations::create(db, &director, id, &inp).await.map_err(e)?;
    }
    Ok(())
}

/// Holds and dunning (issue 21, §12.5): the dunning pass tells each overdue receivable's people
/// of the level it reached; the 120-day receivable holds its account's orders, and finance
/// released that hold on the customer's promise (its history stays); one order of the rep's
/// account is held by finance over a disputed contract clause.
async fn demo_holds(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::orders::holds;
    use crate::app::people::auth;
    let caller = auth::load_caller(db, user_ids["finance"]).await?.context("a demo user")?;
    let finance = Ctx { caller, request_id: "demo".into() };
    let e = |e: crate::domain::DomainError| anyhow::anyhow!("demo holds: {e}");
    for _ in 0..10 {
        if holds::dun_pass(db, Utc::now()).await.map_err(e)? == 0 {
            break;
        }
    }
    for h in holds::list(db, &finance.caller, true).await.map_err(e)? {
        let inp = holds::ReleaseIn {
            reason: Some("客户书面承诺本月底前结清逾期款，财务同意先行放行".into()),
            version: h.version,
        };
        holds::release(db, &finance, h.id, &inp).await.map_err(e)?;
    }
    let order: Option<i64> = sqlx::query("SELECT id FROM orders WHERE contract_no = 'HT-2026-0901'")
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
    if let Some(id) = order {
        let inp =
            holds::HoldIn { reason: Some("客户对质保条款提出异议，待法务确认后再发货".into()) };
        holds::place(db, &finance, id, &inp).await.map_err(e)?;
    }
    Ok(())
}

/// Quotes at every stage on the rep's open opportunities (issue 20): a draft, one within
/// authority and approved, one waiting for the KA manager, one the manager approved that waits
/// for the director, one sent, one the customer accepted, one lost and one expired.
/// The demo's files, written where the server keeps files (`kam serve --demo`): a technical
/// specification sheet enclosed with the rep's sent quote and with a draft, and the tender's
/// documents on a bid. Loaded after [`load`], which knows no data directory.
pub async fn load_files(db: &Db, store: &crate::app::records::files::Storage) -> anyhow::Result<()> {
    use crate::app::people::auth;
    use crate::app::quotes::files::Holder;
    use crate::app::records::attachments::{FileHolder, FileIn};
    let rep: i64 =
        sqlx::query("SELECT id FROM users WHERE username = 'rep'").fetch_one(&db.pool).await?.try_get("id")?;
    let caller = auth::load_caller(db, rep).await?.context("the demo rep")?;
    let ctx = Ctx { caller, request_id: "demo".into() };
    let e = |e: crate::domain::DomainError| anyhow::anyhow!("demo file: {e}");
    let spec = {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("技术参数")?;
        let rows = [
            ["项目", "参数"],
            ["处理器", "2 × 银牌 4314，16 核"],
            ["内存", "256 GB DDR4"],
            ["存储", "4 × 1.92 TB SSD，RAID 5"],
            ["电源", "冗余 1+1，1100 W"],
            ["质保", "三年原厂，7×24 小时响应"],
        ];
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, *v)?;
            }
        }
        ws.set_column_width(1, 32)?;
        wb.save_to_buffer()?
    };
    let quotes: Vec<i64> = sqlx::query(
        "SELECT id FROM quotes WHERE owner_id = $1 AND state IN ('sent', 'draft') ORDER BY state DESC, id LIMIT 2",
    )
    .bind(rep)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?;
    for id in quotes {
        let f = FileIn { file_name: "技术参数表.xlsx", note: Some("技术参数表"), bytes: &spec };
        Holder::Quote.attach(db, &ctx, store, id, &f).await.map_err(e)?;
    }
    let bid: Option<i64> = sqlx::query("SELECT id FROM bids WHERE owner_id = $1 ORDER BY id LIMIT 1")
        .bind(rep)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
    // The acceptance document of the demo's accepted outbound (验收单).
    let accepted: Option<i64> = sqlx::query("SELECT id FROM outbounds WHERE state = 'accepted' ORDER BY id LIMIT 1")
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
    if let Some(id) = accepted {
        let text = "设备验收单\n\n合同编号：HT-2026-1118\n货物：商用台式机 M730 × 20\n验收结论：开机测试通过，验收合格\n客户签字：________\n";
        let f = FileIn { file_name: "验收单-HT-2026-1118.txt", note: Some("验收单"), bytes: text.as_bytes() };
        crate::app::orders::files::Holder::Outbound.attach(db, &ctx, store, id, &f).await.map_err(e)?;
    }
    if let Some(id) = bid {
        let text = "招标文件摘要\n\n一、项目概况：数据中心服务器扩容采购\n二、投标截止：见投标记录\n\
                    三、资格要求：具有同类项目业绩三项以上\n四、评标办法：综合评分法（技术 60 分，商务 40 分）\n";
        let f = FileIn { file_name: "招标文件摘要.txt", note: Some("招标文件"), bytes: text.as_bytes() };
        Holder::Bid.attach(db, &ctx, store, id, &f).await.map_err(e)?;
    }
    Ok(())
}

async fn demo_quotes(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::{approvals, quotes::quotes as q};
    let rep = demo_ctx(db, user_ids, "rep").await?;
    let manager = demo_ctx(db, user_ids, "manager").await?;
    let opps: Vec<i64> = sqlx::query(
        "SELECT id FROM opportunities WHERE owner_id = $1 AND stage IN ('qualified', 'developed', 'committed', 'contacted') \
         AND deleted_at IS NULL ORDER BY id LIMIT 8",
    )
    .bind(user_ids["rep"])
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?;
    let products: Vec<i64> = sqlx::query("SELECT id FROM products WHERE active = 1 ORDER BY id LIMIT 4")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    let e = |e: crate::domain::DomainError| anyhow::anyhow!("demo quote: {e}");
    let lines = |discount: &str| -> serde_json::Value {
        let mut l: Vec<serde_json::Value> = products
            .iter()
            .take(2)
            .enumerate()
            .map(|(i, p)| serde_json::json!({"product_id": p, "quantity": format!("{}", i + 1), "discount": discount}))
            .collect();
        if l.is_empty() {
            l.push(serde_json::json!({"description": "机架式服务器", "unit": "台", "quantity": "4", "list_price": "86000.00", "discount": discount}));
        }
        l.push(serde_json::json!({"description": "安装调试及培训服务", "unit": "项", "quantity": "1", "unit_price": "18000.00"}));
        serde_json::Value::Array(l)
    };
    let terms = serde_json::json!([
        {"kind": "advance", "percent": "30", "days": 0},
        {"kind": "on_delivery", "percent": "60", "days": 30},
        {"kind": "after_acceptance", "percent": "10", "days": 30}
    ]);
    let body = |discount: &str, extra: serde_json::Value| -> anyhow::Result<q::QuoteIn> {
        let mut b = serde_json::json!({"lines": lines(discount), "payment_terms": terms, "delivery_terms": "合同签订后 30 天内送货到客户指定地点", "notes": "含三年原厂维保，7×24 小时响应"});
        if let (Some(o), Some(x)) = (b.as_object_mut(), extra.as_object()) {
            o.extend(x.clone());
        }
        Ok(serde_json::from_value(b)?)
    };
    let act = |v: &q::QuoteView| q::Action { version: v.version, reason: None, update_amount: false };
    let decide = |ctx: Ctx, aid: i64| async move {
        approvals::decide(db, &ctx, aid, "approve", Some("同意"), chrono::Utc::now())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    };
    let plans: [(&str, &str); 8] = [
        ("draft", "3"),
        ("approved", "4"),
        ("pending", "8"),
        ("director", "12"),
        ("sent", "5"),
        ("accepted", "2"),
        ("lost", "4"),
        ("expired", "3"),
    ];
    for (opp, (what, discount)) in opps.iter().zip(plans) {
        let extra = if what == "expired" {
            let d = chrono::Utc::now().date_naive();
            serde_json::json!({"quote_date": (d - chrono::Duration::days(60)).to_string(), "valid_until": (d - chrono::Duration::days(30)).to_string()})
        } else {
            serde_json::json!({})
        };
        let v = q::create(db, &rep, *opp, &body(discount, extra)?).await.map_err(e)?;
        if what == "draft" {
            continue;
        }
        let v = q::submit(db, &rep, v.id, &act(&v)).await.map_err(e)?;
        anyhow::ensure!(
            what == "pending"
                || what == "director"
                || what == "expired"
                || v.state == crate::domain::quote::QuoteState::Approved,
            "demo quote {what}: {:?} at {}% (limit {}), below floor {}",
            v.state,
            v.latest.discount,
            v.author_limit,
            v.latest.below_floor
        );
        match what {
            "pending" | "expired" => {}
            "director" => {
                let aid = v.latest.approval_id.context("a request")?;
                decide(manager.clone(), aid).await?;
            }
            "sent" | "accepted" | "lost" => {
                let v = q::send(db, &rep, v.id, &act(&v)).await.map_err(e)?;
                if what == "accepted" {
                    let a = q::Action { version: v.version, reason: None, update_amount: true };
                    q::accept(db, &rep, v.id, &a).await.map_err(e)?;
                } else if what == "lost" {
                    let a = q::Action {
                        version: v.version,
                        reason: Some("客户选择了报价更低的竞品".into()),
                        update_amount: false,
                    };
                    q::lose(db, &rep, v.id, &a).await.map_err(e)?;
                }
            }
            _ => {}
        }
    }
    q::expire_due(db, &chrono::Utc::now().date_naive().to_string()).await.map_err(e)?;
    Ok(())
}

/// Orders (issue 21): one made from the accepted demo quote and signed off (by the manager and,
/// above 500,000 元, the director), one the manager signed that waits for the director, one
/// cancelled with its reason; and the invoicing details of the accounts they are on.
/// Invoices and payments: the signed order from the accepted quote half invoiced with its
/// advance paid, and five more orders of the rep's first account invoiced 10, 45, 75 and 120
/// days ago (due at once) and 5 days ago (due in 30 days), so the aging report has an amount in
/// every column; a payment then clears part of the oldest.
/// One bank statement finance imported (issue 21): a line matched by its reference (a contract
/// number), confirmed; one by its amount, waiting; one matching nothing.
async fn demo_statement(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::orders::statements as st;
    let caller = crate::app::people::auth::load_caller(db, user_ids["finance"]).await?.context("a demo user")?;
    let finance = Ctx { caller, request_id: "demo".into() };
    let e = |e: crate::domain::DomainError| anyhow::anyhow!("demo statement: {e}");
    let today = act::local_day(Utc::now(), chrono_tz::Asia::Shanghai);
    let day = |n: i64| (today + Duration::days(n)).format("%Y-%m-%d").to_string();
    let csv = format!(
        "日期,付款人,金额,摘要\n{},客户财务部,86000.00,货款 HT-2026-0900\n{},客户财务部,128000.00,转账\n{},某物流公司,1234.00,运费退回\n",
        day(-2),
        day(-1),
        day(-1)
    );
    let src = crate::app::spreadsheets::import::Source::bytes(csv.into_bytes());
    let st::Imported::Statement(v) =
        st::import(db, &finance, Some("招商银行对账单.csv"), src, false, 100).await.map_err(e)?
    else {
        anyhow::bail!("demo statement refused");
    };
    if let Some(l) = v.lines.iter().find(|l| l.match_by.as_deref() == Some("reference")) {
        st::confirm(db, &finance, v.statement.id, l.id, &st::ConfirmLineIn::default()).await.map_err(e)?;
    }
    Ok(())
}

async fn demo_receivables(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::orders::{orders as o, receivables as r};
    let finance = demo_ctx(db, user_ids, "finance").await?;
    let manager = demo_ctx(db, user_ids, "manager").await?;
    let e = |e: crate::domain::DomainError| anyhow::anyhow!("demo receivable: {e}");
    let today = act::local_day(Utc::now(), chrono_tz::Asia::Shanghai);
    let day = |n: i64| (today + Duration::days(n)).format("%Y-%m-%d").to_string();
    // The order from the accepted quote: half invoiced five days ago, the advance paid.
    let signed: Option<(i64, i64, i64)> = sqlx::query(
        "SELECT id, account_id, signed_total FROM orders WHERE quote_id IS NOT NULL AND state = 'signed' ORDER BY id LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?
    .map(|row| Ok::<_, sqlx::Error>((row.try_get("id")?, row.try_get("account_id")?, row.try_get("signed_total")?)))
    .transpose()?;
    if let Some((id, account, total)) = signed {
        let half = crate::domain::money::format_fen(total / 2);
        let inv = r::InvoiceIn {
            number: Some("04418820".into()),
            issued_on: Some(day(-5)),
            amount: Some(half),
            ..Default::default()
        };
        r::record_invoice(db, &finance, id, &inv).await.map_err(e)?;
        let advance: i64 = sqlx::query("SELECT amount FROM receivables WHERE order_id = $1 AND position = 0")
            .bind(id)
            .fetch_one(&db.pool)
            .await?
            .try_get("amount")?;
        let pay = r::PaymentIn {
            account_id: Some(account),
            received_on: Some(day(-3)),
            amount: Some(crate::domain::money::format_fen(advance)),
            reference: Some("CMB2026-88213".into()),
            payer: Some("客户财务部".into()),
            ..Default::default()
        };
        r::record_payment(db, &finance, &pay).await.map_err(e)?;
    }
    // Four orders of the rep's first account, invoiced at four ages.
    let account: i64 = sqlx::query(
        "SELECT a.id FROM accounts a JOIN account_access x ON x.account_id = a.id WHERE x.user_id = $1 \
         AND x.via = 'owner' AND a.deleted_at IS NULL ORDER BY a.id LIMIT 1",
    )
    .bind(user_ids["rep"])
    .fetch_one(&db.pool)
    .await?
    .try_get("id")?;
    let ages =
        [(10, "86000.00", 0), (45, "128000.00", 0), (75, "64000.00", 0), (120, "36000.00", 0), (5, "52000.00", 30)];
    for (n, (ago, amount, days)) in ages.into_iter().enumerate() {
        let inp: o::OrderIn = serde_json::from_value(serde_json::json!({
            "account_id": account,
            "contract_no": format!("HT-2026-09{n:02}"),
            "lines": [{"description": "备品备件及技术服务", "unit": "批", "quantity": "1", "unit_price": amount}],
            "payment_terms": [{"kind": "on_delivery", "percent": "100", "due": format!("{days} days after invoice")}]
        }))?;
        let v = o::create(db, &manager, o::Origin::Account(account), &inp).await.map_err(e)?;
        let v = o::submit(db, &manager, v.id, &o::Action { version: v.version, reason: None }).await.map_err(e)?;
        let inv = r::InvoiceIn {
            number: Some(format!("0441790{n}")),
            issued_on: Some(day(-ago)),
            amount: Some(amount.into()),
            ..Default::default()
        };
        r::record_invoice(db, &finance, v.id, &inv).await.map_err(e)?;
    }
    // 30,000 元 goes to the oldest first: the 120-day invoice in part.
    let pay = r::PaymentIn {
        account_id: Some(account),
        received_on: Some(day(-2)),
        amount: Some("30000.00".into()),
        method: Some(crate::domain::receivable::PaymentMethod::Acceptance),
        reference: Some("ICBC2026-4471".into()),
        ..Default::default()
    };
    r::record_payment(db, &finance, &pay).await.map_err(e)?;
    Ok(())
}

/// The collection forecast's promise (issue 21 reports): the manager called about the largest
/// overdue receivable and the customer promised half of it in ten days, so the forecast shows
/// it on that week rather than as overdue.
async fn demo_promise(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::orders::collection as c;
    let caller = crate::app::people::auth::load_caller(db, user_ids["manager"]).await?.context("a demo user")?;
    let ctx = Ctx { caller, request_id: "demo".into() };
    let today = act::local_day(Utc::now(), chrono_tz::Asia::Shanghai);
    let row = sqlx::query(
        "SELECT id, amount - paid - written_off AS left_fen FROM receivables WHERE state = 'open' AND due_on < $1 \
         ORDER BY amount - paid - written_off DESC, id LIMIT 1",
    )
    .bind(today.format("%Y-%m-%d").to_string())
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(()) };
    let (id, left): (i64, i64) = (row.try_get("id")?, row.try_get("left_fen")?);
    let inp = c::CollectionContactIn {
        contacted_on: None,
        channel: Some(crate::domain::receivable::Channel::Phone),
        note: Some("客户财务确认十天内先付一半".into()),
        promised_amount: Some(crate::domain::money::format_fen(left / 2)),
        promised_on: Some((today + Duration::days(10)).format("%Y-%m-%d").to_string()),
    };
    c::log_contact(db, &ctx, id, &inp, today).await.map_err(|e| anyhow::anyhow!("demo promise: {e}"))?;
    Ok(())
}

/// Delivery (issue 21): three orders of the rep's first account that the manager signed — one
/// partly delivered (two of four switches delivered, one more prepared), one delivered and
/// accepted by the customer (its installments counting from delivery and acceptance due), and
/// one late: asked for twelve days ago, its outbound still on the way.
async fn demo_deliveries(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::orders::{deliveries as dl, orders as o};
    let manager = demo_ctx(db, user_ids, "manager").await?;
    let wuliu = demo_ctx(db, user_ids, "logistics").await?;
    let e = |e: crate::domain::DomainError| anyhow::anyhow!("demo delivery: {e}");
    let today = act::local_day(Utc::now(), chrono_tz::Asia::Shanghai);
    let day = |n: i64| (today + Duration::days(n)).format("%Y-%m-%d").to_string();
    let account: i64 = sqlx::query(
        "SELECT a.id FROM accounts a JOIN account_access x ON x.account_id = a.id WHERE x.user_id = $1 \
         AND x.via = 'owner' AND a.deleted_at IS NULL ORDER BY a.id LIMIT 1",
    )
    .bind(user_ids["rep"])
    .fetch_one(&db.pool)
    .await?
    .try_get("id")?;
    let order = |contract: &str, requested: String, lines: serde_json::Value, terms: serde_json::Value| {
        let inp: anyhow::Result<o::OrderIn> = serde_json::from_value(serde_json::json!({
            "account_id": account, "contract_no": contract, "requested_delivery": requested,
            "lines": lines, "payment_terms": terms
        }))
        .map_err(anyhow::Error::from);
        let (manager, e) = (&manager, &e);
        async move {
            let v = o::create(db, manager, o::Origin::Account(account), &inp?).await.map_err(e)?;
            let v = o::submit(db, manager, v.id, &o::Action { version: v.version, reason: None }).await.map_err(e)?;
            anyhow::ensure!(v.state == crate::domain::order::OrderState::Signed, "demo delivery order signed");
            anyhow::Ok(v.id)
        }
    };
    let out = |order_id: i64, lines: &[(i64, &str)], note: &str| {
        let inp = dl::OutboundIn {
            lines: lines.iter().map(|(p, q)| dl::OutboundLineIn { position: *p, quantity: (*q).into() }).collect(),
            note: Some(note.into()),
        };
        let (wuliu, e) = (&wuliu, &e);
        async move { dl::prepare(db, wuliu, order_id, &inp).await.map_err(e) }
    };
    let ship = |v: dl::OutboundView, carrier: &str, waybill: &str, on: String| {
        let inp = dl::ShipIn {
            version: v.version,
            carrier: Some(carrier.into()),
            waybill: Some(waybill.into()),
            shipped_on: Some(on),
        };
        let (wuliu, e) = (&wuliu, &e);
        async move { dl::ship(db, wuliu, v.id, &inp).await.map_err(e) }
    };
    let deliver = |v: dl::OutboundView, on: String| {
        let (wuliu, e) = (&wuliu, &e);
        async move {
            dl::deliver(db, wuliu, v.id, &dl::DeliverIn { version: v.version, delivered_on: Some(on) }).await.map_err(e)
        }
    };
    // 1. Partly delivered.
    let id = order(
        "HT-2026-1230",
        day(20),
        serde_json::json!([
            {"product_code": "NET-S6850", "quantity": "4", "unit_price": "54000.00"},
            {"product_code": "SVC-INST", "quantity": "6", "unit_price": "2400.00"}
        ]),
        serde_json::json!([
            {"kind": "advance", "percent": "30", "due": "0 days after order"},
            {"kind": "on_delivery", "percent": "60", "due": "30 days after delivery"},
            {"kind": "retention", "percent": "10", "due": "365 days after acceptance"}
        ]),
    )
    .await?;
    let v = out(id, &[(0, "2"), (1, "3")], "第一批：核心交换机两台").await?;
    let v = ship(v, "顺丰速运", "SF1402938471", day(-6)).await?;
    deliver(v, day(-4)).await?;
    out(id, &[(0, "1")], "第二批：备货中").await?;
    // 2. Delivered and accepted.
    let id = order(
        "HT-2026-1118",
        day(-20),
        serde_json::json!([{"product_code": "PC-M730", "quantity": "20", "unit_price": "6000.00"}]),
        serde_json::json!([
            {"kind": "on_delivery", "percent": "70", "due": "15 days after delivery"},
            {"kind": "after_acceptance", "percent": "30", "due": "0 days after acceptance"}
        ]),
    )
    .await?;
    let v = out(id, &[(0, "20")], "整单发货").await?;
    let v = ship(v, "德邦物流", "DPK20261118", day(-25)).await?;
    let v = deliver(v, day(-22)).await?;
    let a = dl::AcceptIn {
        version: v.version,
        accepted_on: Some(day(-18)),
        note: Some("20 台全部开机测试通过，验收合格".into()),
    };
    dl::accept(db, &wuliu, &crate::app::records::files::Storage::new(".", Default::default()), v.id, &a, None)
        .await
        .map_err(e)?;
    // 3. Late: asked for twelve days ago, still on the way.
    let id = order(
        "HT-2026-1109",
        day(-12),
        serde_json::json!([{"product_code": "SRV-R750", "quantity": "2", "unit_price": "125000.00"}]),
        serde_json::json!([{"kind": "on_delivery", "percent": "100", "due": "30 days after delivery"}]),
    )
    .await?;
    let v = out(id, &[(0, "2")], "厂家延迟供货").await?;
    ship(v, "中铁快运", "CR8817263", day(-1)).await?;
    Ok(())
}

/// Write-offs and a return (issue 21, §12.3): the KA manager proposes writing off what is left
/// of the 120-day receivable (finance approved it) and part of the 75-day one (waiting for
/// finance); the accepted PC order has one unit back.
async fn demo_writeoffs(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::orders::{returns as rt, writeoffs as wo};
    let (manager, finance) = (demo_ctx(db, user_ids, "manager").await?, demo_ctx(db, user_ids, "finance").await?);
    let wuliu = demo_ctx(db, user_ids, "logistics").await?;
    let e = |e: crate::domain::DomainError| anyhow::anyhow!("demo write-off: {e}");
    let receivable = |contract: &'static str| async move {
        sqlx::query(
            "SELECT r.id, r.amount - r.paid - r.written_off AS owes FROM receivables r JOIN orders d ON d.id = r.order_id \
             WHERE d.contract_no = $1 AND r.state = 'open' ORDER BY r.id LIMIT 1",
        )
        .bind(contract)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| anyhow::Ok((r.try_get::<i64, _>("id")?, r.try_get::<i64, _>("owes")?)))
        .transpose()
    };
    // Half of what the 120-day receivable owes: the rest stays over 90 days in the aging.
    if let Some((rid, owes)) = receivable("HT-2026-0903").await? {
        let inp = wo::WriteoffIn {
            amount: Some(crate::domain::money::format_fen(owes / 2)),
            reason: Some("客户经营异常，多次催收无果，余款确认无法收回".into()),
        };
        let w = wo::propose(db, &manager, rid, &inp).await.map_err(e)?;
        let aid = w.approval_id.context("a write-off request")?;
        crate::app::approvals::decide(db, &finance, aid, "approve", Some("核对催款记录无误，同意核销"), Utc::now())
            .await
            .map_err(e)?;
    }
    if let Some((rid, _)) = receivable("HT-2026-0902").await? {
        let inp = wo::WriteoffIn {
            amount: Some("20000.00".into()),
            reason: Some("部分设备客户拒收且无法追回，申请核销相应款项".into()),
        };
        wo::propose(db, &manager, rid, &inp).await.map_err(e)?;
    }
    let order: Option<i64> = sqlx::query("SELECT id FROM orders WHERE contract_no = 'HT-2026-1118'")
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
    if let Some(id) = order {
        let today = act::local_day(Utc::now(), chrono_tz::Asia::Shanghai);
        let inp = rt::ReturnIn {
            lines: vec![rt::ReturnLineIn { position: 0, quantity: "1".into() }],
            reason: Some("一台开箱屏幕破损，客户退回".into()),
            returned_on: Some((today - Duration::days(10)).format("%Y-%m-%d").to_string()),
        };
        rt::record(db, &wuliu, id, &inp).await.map_err(e)?;
    }
    Ok(())
}

async fn demo_orders(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::approvals;
    use crate::app::orders::{invoicing, orders as o};
    let rep = demo_ctx(db, user_ids, "rep").await?;
    let manager = demo_ctx(db, user_ids, "manager").await?;
    let director = demo_ctx(db, user_ids, "director").await?;
    let e = |e: crate::domain::DomainError| anyhow::anyhow!("demo order: {e}");
    let decide = |ctx: Ctx, aid: i64| async move {
        approvals::decide(db, &ctx, aid, "approve", Some("同意，按期交货"), chrono::Utc::now())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    };
    let delivery = (chrono::Utc::now().date_naive() + chrono::Duration::days(45)).to_string();
    // 1. From the accepted quote, signed off.
    let accepted: i64 = sqlx::query("SELECT id FROM quotes WHERE state = 'accepted' ORDER BY id LIMIT 1")
        .fetch_one(&db.pool)
        .await?
        .try_get("id")?;
    let inp: o::OrderIn = serde_json::from_value(serde_json::json!({
        "contract_no": "HT-2026-1208", "requested_delivery": delivery
    }))?;
    let v = o::create(db, &rep, o::Origin::Quote(accepted), &inp).await.map_err(e)?;
    let mut signed = o::submit(db, &rep, v.id, &o::Action { version: v.version, reason: None }).await.map_err(e)?;
    // The manager signs; above 500,000 元 the director too.
    for who in [&manager, &director] {
        if signed.state != crate::domain::order::OrderState::Pending {
            break;
        }
        let aid = signed.latest.approval_id.context("a sign-off request")?;
        decide(who.clone(), aid).await?;
        signed = o::get(db, &rep.caller, signed.id, None).await.map_err(e)?;
    }
    anyhow::ensure!(signed.state == crate::domain::order::OrderState::Signed, "demo order signed: {:?}", signed.state);
    // The rep's accounts with orders of their own.
    let accounts: Vec<i64> = sqlx::query(
        "SELECT DISTINCT a.id FROM accounts a JOIN account_access x ON x.account_id = a.id WHERE x.user_id = $1 \
         AND x.via = 'owner' AND a.deleted_at IS NULL ORDER BY a.id LIMIT 2",
    )
    .bind(user_ids["rep"])
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?;
    let account = *accounts.first().context("an account of the rep")?;
    let order_body = |contract: &str, qty: &str| -> anyhow::Result<o::OrderIn> {
        Ok(serde_json::from_value(serde_json::json!({
            "account_id": account,
            "contract_no": contract,
            "requested_delivery": delivery,
            "lines": [
                {"product_code": "STO-AF800", "quantity": qty, "unit_price": "352000.00"},
                {"product_code": "SVC-INST", "quantity": "10", "unit_price": "2400.00"}
            ],
            "payment_terms": [
                {"kind": "advance", "percent": "30", "due": "0 days after order"},
                {"kind": "on_delivery", "percent": "60", "due": "30 days after invoice"},
                {"kind": "retention", "percent": "10", "due": "365 days after acceptance"}
            ],
            "notes": "分两批交货，第一批随合同签订后 30 天内"
        }))?)
    };
    // 2. Above 500,000 元: the manager signed, the director has still to.
    let v = o::create(db, &rep, o::Origin::Account(account), &order_body("HT-2026-1215", "2")?).await.map_err(e)?;
    let v = o::submit(db, &rep, v.id, &o::Action { version: v.version, reason: None }).await.map_err(e)?;
    decide(manager.clone(), v.latest.approval_id.context("a sign-off request")?).await?;
    // 3. Cancelled with its reason.
    let v = o::create(db, &rep, o::Origin::Account(account), &order_body("HT-2026-1102", "1")?).await.map_err(e)?;
    let a = o::Action { version: v.version, reason: Some("客户预算调整，采购计划取消".into()) };
    o::cancel(db, &rep, v.id, &a).await.map_err(e)?;
    // The customer's invoicing details.
    let name: String = sqlx::query("SELECT name FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_one(&db.pool)
        .await?
        .try_get("name")?;
    let inv = invoicing::InvoicingIn {
        version: Some(0),
        title: Some(name),
        tax_number: sqlx::query("SELECT credit_code FROM accounts WHERE id = $1")
            .bind(account)
            .fetch_one(&db.pool)
            .await?
            .try_get::<Option<String>, _>("credit_code")?
            .or_else(|| Some("110108123456789".into())),
        address: Some("北京市海淀区中关村大街 27 号".into()),
        phone: Some("010-82561234".into()),
        bank: Some("中国工商银行北京中关村支行".into()),
        bank_account: Some("0200004509201234567".into()),
    };
    invoicing::put(db, &rep, account, &inv).await.map_err(e)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The product catalogue (产品目录): what the company sells to its key accounts.

/// (code, name, category, specification, unit, list price, floor price, standard cost, tax %,
/// active), prices in yuan: floor prices about 82–84 % of list; services at 6 % VAT.
type ProductSpec = (&'static str, &'static str, &'static str, &'static str, &'static str, i64, i64, i64, i64, bool);

#[rustfmt::skip]
const PRODUCTS: &[ProductSpec] = &[
    ("SRV-R750", "机架式服务器 R750", "服务器", "2×银牌4314 / 256GB / 4×1.92TB SSD", "台", 128_000, 106_000, 92_000, 13, true),
    ("SRV-G5500", "GPU 服务器 G5500", "服务器", "8×GPU / 2×金牌6430 / 1TB 内存", "台", 680_000, 565_000, 498_000, 13, true),
    ("SRV-R740", "机架式服务器 R740（停产）", "服务器", "2×银牌4214 / 128GB / 4×960GB SSD", "台", 98_000, 82_000, 74_000, 13, false),
    ("STO-D5000", "分布式存储节点 D5000", "存储", "24×16TB / 2×25GbE", "套", 238_000, 196_000, 165_000, 13, true),
    ("STO-AF800", "全闪存存储阵列 AF800", "存储", "双控 / 46TB 有效容量", "套", 365_000, 302_000, 255_000, 13, true),
    ("NET-S6850", "数据中心交换机 S6850", "网络", "48×25GE + 8×100GE", "台", 56_000, 46_500, 38_000, 13, true),
    ("NET-S5735", "接入交换机 S5735", "网络", "48×GE + 4×10GE", "台", 6_800, 5_650, 4_300, 13, true),
    ("PC-M730", "商用台式机 M730", "PC", "i7 / 16GB / 512GB SSD / 23.8 英寸显示器", "台", 6_200, 5_200, 4_450, 13, true),
    ("NB-X1", "商用笔记本 X1", "笔记本", "14 英寸 / i7 / 32GB / 1TB SSD", "台", 11_800, 9_800, 8_600, 13, true),
    ("SW-VIRT", "服务器虚拟化软件许可", "软件", "每物理 CPU，永久许可", "套", 18_000, 14_800, 6_000, 13, true),
    ("SVC-INST", "机房实施与安装服务", "IT服务", "上门安装、上架、布线与调试", "人天", 2_400, 1_950, 1_200, 6, true),
    ("SVC-MAINT", "年度维保服务（7×24）", "IT服务", "7×24 小时响应，4 小时到场，备件先行", "年", 36_000, 29_800, 15_000, 6, true),
    ("CLD-ECS", "云服务器资源包", "云服务", "8 核 32GB，一年", "年", 9_600, 8_000, 5_200, 6, true),
];

/// The demo company's catalogue, written through the use case (one audit row each).
async fn add_products(tx: &mut WriteTx, ctx: &Ctx) -> anyhow::Result<()> {
    use crate::app::quotes::products::{self, ProductData};
    for &(code, name, category, spec, unit, list, floor, cost, tax, active) in PRODUCTS {
        let d = ProductData {
            code: code.into(),
            name: name.into(),
            category: Some(category.into()),
            specification: Some(spec.into()),
            unit: unit.into(),
            list_price: list * 100,
            floor_price: Some(floor * 100),
            tax_rate_bp: tax * 100,
            standard_cost: Some(cost * 100),
            active,
        };
        products::insert(tx, ctx, &d).await.with_context(|| format!("product {code}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Visits and calls: the last three weeks and this one, and a few planned for the next.

/// The demo's cities and their centres in microdegrees (WGS 84), for the visits' check-ins.
pub(crate) const CITY_CENTRES: &[(&str, i64, i64)] = &[
    ("北京", 39_904_211, 116_407_395),
    ("天津", 39_084_158, 117_200_983),
    ("上海", 31_230_416, 121_473_701),
    ("南京", 32_060_255, 118_796_877),
    ("广州", 23_129_110, 113_264_385),
    ("深圳", 22_543_096, 114_057_865),
    ("成都", 30_572_815, 104_066_801),
    ("西安", 34_341_568, 108_940_174),
];

/// An activity of the demo, before it is written.
struct Visit {
    at: DateTime<Utc>,
    account_id: i64,
    owner_id: i64,
    opportunity_id: Option<i64>,
    kind: act::Kind,
    done: bool,
    /// Planned beforehand (`planned_at` set).
    planned: bool,
    minutes: Option<i64>,
    outcome: act::Outcome,
    attitude: Option<&'static str>,
    /// `executive_visit` or `technical_exchange` (service standards).
    purpose: Option<&'static str>,
    place: Option<&'static str>,
    participants: Option<String>,
    objective: Option<&'static str>,
    materials: Option<&'static str>,
    talking_points: Option<&'static str>,
    customer_views: Option<&'static str>,
    problems: Option<&'static str>,
    next_steps: Option<&'static str>,
    summary: Option<&'static str>,
    /// Contacts met and the attitude noted (the contact's own).
    met: Vec<(i64, String)>,
}

impl Visit {
    fn new(at: DateTime<Utc>, account_id: i64, owner_id: i64, kind: act::Kind, done: bool) -> Visit {
        Visit {
            at,
            account_id,
            owner_id,
            opportunity_id: None,
            kind,
            done,
            planned: !done,
            minutes: None,
            outcome: act::Outcome::None,
            attitude: None,
            purpose: None,
            place: None,
            participants: None,
            objective: None,
            materials: None,
            talking_points: None,
            customer_views: None,
            problems: None,
            next_steps: None,
            summary: None,
            met: vec![],
        }
    }
}

const V_OBJECTIVES: &[&str] = &[
    "了解客户明年IT预算和重点项目",
    "介绍新一代服务器与分布式存储方案",
    "与信息中心确认扩容需求和技术指标",
    "拜访分管领导，汇报项目进展",
    "回访已交付项目，收集使用意见",
    "沟通商务条款与交付计划",
    "邀请客户参加下月新品发布会",
];
const V_PLACES: &[&str] = &["客户办公室", "客户会议室", "客户数据中心机房", "我司客户体验中心"];
const V_MATERIALS: &[&str] = &["解决方案PPT、产品彩页", "报价单、合同模板", "成功案例集、性能测试报告", "演示样机"];
const V_TALKING: &[&str] =
    &["国产化适配进展、迁移服务、三年维保", "扩容方案的性能指标与报价区间", "同行业成功案例与本地化服务团队"];
const V_VIEWS: &[&str] = &[
    "认可我司方案方向，但希望价格再优惠",
    "关注交付周期和售后响应时间",
    "倾向国产化产品，要求提供适配证明",
    "对现有供应商的服务不太满意",
    "预算有限，希望分两期实施",
];
const V_PROBLEMS: &[&str] = &[
    "存储阵列告警，现场更换硬盘后恢复正常",
    "服务器固件升级失败，协调工程师完成升级",
    "发票抬头有误，已协调财务重开",
    "备件到货延迟，协调物流加急发货",
];
const V_NEXT: &[&str] = &[
    "下周提交技术方案",
    "安排售前工程师现场测试",
    "准备正式报价并内部审批",
    "邀请客户到我司参观",
    "跟进预算审批进度",
    "整理会议纪要发送客户确认",
];
const V_SUMMARIES: &[&str] = &[
    "与信息中心主任沟通了扩容需求，客户认可我司方案方向",
    "介绍了国产化替代方案，客户关注适配与迁移服务",
    "客户反馈现有设备运行稳定，明年有更新计划",
    "与采购部确认了招标时间表，预计下月发标",
    "技术交流顺利，客户要求补充性能测试数据",
    "客户预算尚未批复，需持续跟进",
    "见到了分管副总，项目优先级提高",
];
const C_SUMMARIES: &[&str] = &[
    "电话回访，客户暂无新需求",
    "确认采购联系人及联系方式",
    "推荐本月促销活动，客户有兴趣",
    "客户咨询服务器报价，已发送资料",
    "跟进上次报价，客户仍在比较",
    "客户来电咨询保修服务",
    "预约下周上门拜访",
    "客户未接听，已发短信",
];

/// A working day's instant at a local time (hours and minutes) in the demo's time zone.
fn local_at(d: NaiveDate, minutes: i64) -> DateTime<Utc> {
    act::day_bounds(d, chrono_tz::Asia::Shanghai).0 + Duration::minutes(minutes)
}

/// Visits and calls of every demo salesperson over the last three weeks and this one: outside
/// sales visit the accounts they own (some effective, linking an open opportunity of the account
/// or naming the problem solved; contacts met for some), inside sales call theirs; a few visits
/// are planned for the rest of this week and the next, and the reps submitted their weekly plans.
/// One visit of `rep` to a key account, ten days ago, is still waiting for its follow-up.
/// Written directly, with the derived columns by the app's rules.
async fn add_visits(tx: &mut WriteTx, rng: &mut Rng, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    let tz = chrono_tz::Asia::Shanghai;
    let now = Utc::now();
    let today = act::local_day(now, tz);
    let this_week = act::monday(today);
    let workday = |d: NaiveDate| d.weekday().num_days_from_monday() < 5;

    // What the visits refer to.
    // Each account's id, whether it is a key account, its owner and inside owner; and the
    // accounts whose visits ask for a follow-up (key accounts, prospects and candidates).
    let mut accounts: Vec<(i64, bool, Option<i64>, Option<i64>)> = vec![];
    let mut follows: HashSet<i64> = HashSet::new();
    for r in sqlx::query("SELECT id, status, owner_id, inside_owner_id FROM accounts ORDER BY id")
        .fetch_all(tx.conn())
        .await?
    {
        let status: String = r.try_get("status")?;
        if act::asks_follow_up(&status) {
            follows.insert(r.try_get("id")?);
        }
        accounts.push((
            r.try_get("id")?,
            status == "key_account",
            r.try_get("owner_id")?,
            r.try_get("inside_owner_id")?,
        ));
    }
    let mut open_opps: HashMap<i64, Vec<(i64, NaiveDate)>> = HashMap::new();
    for r in sqlx::query("SELECT id, account_id, stage, established_at FROM opportunities ORDER BY id")
        .fetch_all(tx.conn())
        .await?
    {
        let stage: String = r.try_get("stage")?;
        let open = crate::domain::opportunity::Stage::parse(&stage).map(|s| s.is_open()).unwrap_or(false);
        let est: String = r.try_get("established_at")?;
        if let (true, Ok(start)) = (open, NaiveDate::parse_from_str(est.get(..10).unwrap_or(""), "%Y-%m-%d")) {
            open_opps.entry(r.try_get("account_id")?).or_default().push((r.try_get("id")?, start));
        }
    }
    let mut contacts: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for r in sqlx::query("SELECT id, account_id, attitude FROM contacts ORDER BY id").fetch_all(tx.conn()).await? {
        let att: Option<String> = r.try_get("attitude")?;
        contacts.entry(r.try_get("account_id")?).or_default().push((r.try_get("id")?, att.unwrap_or_default()));
    }

    let rep = user_ids.get("rep").copied().context("demo user rep")?;
    // The key account whose follow-up is overdue: nobody touches it after that visit.
    let overdue_account = accounts
        .iter()
        .find(|a| a.1 && a.2 == Some(rep) && a.3.is_none())
        .or_else(|| accounts.iter().find(|a| a.1 && a.2 == Some(rep)))
        .map(|a| a.0)
        .context("rep holds no key account")?;

    let first = this_week - Duration::days(21);
    let days: Vec<NaiveDate> =
        (0..=(today - first).num_days()).map(|i| first + Duration::days(i)).filter(|d| workday(*d)).collect();
    let ahead: Vec<NaiveDate> = (1..=11).map(|i| today + Duration::days(i)).filter(|d| workday(*d)).collect();
    let mut visits: Vec<Visit> = vec![];
    let mut plan_weeks: Vec<(i64, NaiveDate)> = vec![];

    for spec in USERS.iter().filter(|u| u.sales_type.is_some()) {
        let uid = user_ids.get(spec.username).copied().with_context(|| format!("demo user {}", spec.username))?;
        let outside = spec.sales_type == Some(SalesType::Ae);
        // The accounts they work: owned (outside) or held as inside owner; key accounts twice.
        let mut book: Vec<i64> = vec![];
        for a in accounts.iter().filter(|a| a.0 != overdue_account) {
            if (outside && a.2 == Some(uid)) || (!outside && a.3 == Some(uid)) {
                book.push(a.0);
                if a.1 {
                    book.push(a.0);
                }
            }
        }
        if book.is_empty() {
            continue;
        }
        // rep is the star of the team; the others differ.
        let effective_pct = if spec.username == "rep" { 65 } else { rng.range(30, 50) as u64 };
        for &d in &days {
            if outside {
                let n = if spec.username == "rep" { rng.range(4, 5) } else { rng.range(2, 4) } as usize;
                // Visit slots: 09:00, 10:30, 13:30, 15:00, 16:30, give or take a quarter hour.
                for slot in [540, 630, 810, 900, 990].iter().take(n) {
                    let at = local_at(d, slot + rng.range(0, 2) * 15);
                    let minutes = rng.range(3, 8) * 15;
                    if at + Duration::minutes(minutes) > now {
                        continue;
                    }
                    let account = *rng.pick(&book);
                    let kind = if rng.pct(80) { act::Kind::Visit } else { act::Kind::Meeting };
                    let mut v = Visit::new(at, account, uid, kind, true);
                    v.planned = rng.pct(70);
                    v.minutes = rng.pct(85).then_some(minutes);
                    v.place = Some(if kind == act::Kind::Meeting { V_PLACES[3] } else { *rng.pick(&V_PLACES[..3]) });
                    v.objective = Some(*rng.pick(V_OBJECTIVES));
                    v.summary = Some(*rng.pick(V_SUMMARIES));
                    v.next_steps = Some(*rng.pick(V_NEXT));
                    v.customer_views = rng.pct(60).then(|| *rng.pick(V_VIEWS));
                    v.talking_points = rng.pct(40).then(|| *rng.pick(V_TALKING));
                    v.attitude = rng.pct(60).then(|| ["warm", "normal", "cold"][rng.weighted(&[45, 40, 15])]);
                    let opps = open_opps.get(&account).map(Vec::as_slice).unwrap_or(&[]);
                    if rng.pct(effective_pct) {
                        if !opps.is_empty() && rng.pct(70) {
                            let (oid, start) = *rng.pick(opps);
                            v.opportunity_id = Some(oid);
                            v.outcome = if (d - start).num_days() <= 14 {
                                act::Outcome::OpportunityFound
                            } else {
                                act::Outcome::OpportunityAdvanced
                            };
                        } else {
                            v.outcome = act::Outcome::ProblemSolved;
                            v.problems = Some(*rng.pick(V_PROBLEMS));
                        }
                    } else if !opps.is_empty() && rng.pct(20) {
                        v.opportunity_id = Some(rng.pick(opps).0);
                    }
                    if rng.pct(50) {
                        let cs = contacts.get(&account).map(Vec::as_slice).unwrap_or(&[]);
                        if !cs.is_empty() {
                            let from = rng.below(cs.len() as u64) as usize;
                            let n = (1 + rng.below(2) as usize).min(cs.len());
                            v.met = (0..n).map(|k| cs[(from + k) % cs.len()].clone()).collect();
                            v.participants = Some(format!("客户{}人，我方1人", n));
                        }
                    }
                    visits.push(v);
                }
                // A call or two between visits.
                for _ in 0..rng.range(0, 2) {
                    let at = local_at(d, rng.range(11 * 60 + 30, 17 * 60 + 30));
                    if at > now {
                        continue;
                    }
                    let mut v = Visit::new(at, *rng.pick(&book), uid, act::Kind::Phone, true);
                    v.summary = Some(*rng.pick(C_SUMMARIES));
                    visits.push(v);
                }
            } else {
                // Inside sales: calls all day, now and then a visit with the rep.
                for _ in 0..rng.range(8, 14) {
                    let at = local_at(d, rng.range(9 * 60, 17 * 60 + 45));
                    if at > now {
                        continue;
                    }
                    let account = *rng.pick(&book);
                    let kind = [act::Kind::ObCall, act::Kind::IbCall, act::Kind::Phone][rng.weighted(&[65, 20, 15])];
                    let mut v = Visit::new(at, account, uid, kind, true);
                    v.summary = Some(*rng.pick(C_SUMMARIES));
                    v.attitude = rng.pct(40).then(|| ["warm", "normal", "cold"][rng.weighted(&[40, 45, 15])]);
                    let opps = open_opps.get(&account).map(Vec::as_slice).unwrap_or(&[]);
                    if !opps.is_empty() && rng.pct(8) {
                        v.opportunity_id = Some(rng.pick(opps).0);
                        v.outcome = act::Outcome::OpportunityAdvanced;
                        v.next_steps = Some(*rng.pick(V_NEXT));
                    }
                    visits.push(v);
                }
                if rng.pct(20) {
                    let at = local_at(d, 14 * 60);
                    if at + Duration::hours(1) <= now {
                        let mut v = Visit::new(at, *rng.pick(&book), uid, act::Kind::Visit, true);
                        v.minutes = Some(60);
                        v.place = Some(V_PLACES[0]);
                        v.objective = Some(V_OBJECTIVES[4]);
                        v.summary = Some(*rng.pick(V_SUMMARIES));
                        v.outcome = act::Outcome::ProblemSolved;
                        v.problems = Some(*rng.pick(V_PROBLEMS));
                        visits.push(v);
                    }
                }
            }
        }
        // Planned: the rest of this week and a couple next week, with purpose, place and material.
        let planned_n = if outside { rng.range(3, 5) } else { rng.range(1, 2) } as usize;
        for k in 0..planned_n {
            let Some(&d) = ahead.get((k * 2 + rng.below(2) as usize).min(ahead.len().saturating_sub(1))) else {
                break;
            };
            let at = local_at(d, [570, 870, 960][k % 3]);
            let account = *rng.pick(&book);
            let kind = if outside || rng.pct(50) { act::Kind::Visit } else { act::Kind::ObCall };
            let mut v = Visit::new(at, account, uid, kind, false);
            if kind.face_to_face() {
                v.minutes = Some(rng.range(4, 6) * 15);
                v.place = Some(*rng.pick(&V_PLACES[..3]));
                v.materials = Some(*rng.pick(V_MATERIALS));
                v.talking_points = Some(*rng.pick(V_TALKING));
                v.opportunity_id = open_opps.get(&account).filter(|o| !o.is_empty()).map(|o| rng.pick(o).0);
            }
            v.objective = Some(*rng.pick(V_OBJECTIVES));
            visits.push(v);
        }
        // Weekly plans: the reps submit theirs on the Friday before (this week's: rep and rep4).
        if outside {
            for w in 0..4 {
                let week = first + Duration::days(7 * w);
                if week < this_week || ["rep", "rep4"].contains(&spec.username) {
                    plan_weeks.push((uid, week));
                }
            }
        }
    }
    // The overdue follow-up: a visit to the key account three weeks ago (answered by the next),
    // and one ten days ago that nobody has followed up since.
    let before = |d: NaiveDate| {
        let mut d = d;
        while !workday(d) {
            d -= Duration::days(1);
        }
        d
    };
    for (ago, summary) in [(20, V_SUMMARIES[0]), (10, V_SUMMARIES[4])] {
        let d = before(today - Duration::days(ago));
        let mut v = Visit::new(local_at(d, 600), overdue_account, rep, act::Kind::Visit, true);
        v.minutes = Some(90);
        v.place = Some(V_PLACES[1]);
        v.objective = Some(V_OBJECTIVES[2]);
        v.summary = Some(summary);
        v.next_steps = Some(V_NEXT[0]);
        v.attitude = Some("warm");
        v.outcome = act::Outcome::ProblemSolved;
        v.problems = Some(V_PROBLEMS[0]);
        visits.push(v);
    }
    // Executive visits and technical exchanges (the tiers' service standards, 002): most key
    // accounts had them in the last months; every third has had no executive visit for
    // half a year, so the service-standards report has something to show.
    let mut services: Vec<(i64, i64, &str, NaiveDate)> = vec![]; // account, owner, purpose, day
    for (i, a) in accounts.iter().filter(|a| a.1).enumerate() {
        let Some(owner) = a.2 else { continue };
        let exec_ago = if i % 3 == 2 { 200 + (i as i64 * 13) % 60 } else { 15 + (i as i64 * 37) % 70 };
        services.push((a.0, owner, "executive_visit", before(today - Duration::days(exec_ago))));
        if i % 2 == 0 {
            services.push((
                a.0,
                owner,
                "technical_exchange",
                before(today - Duration::days(25 + (i as i64 * 23) % 50)),
            ));
        }
    }
    for (account_id, owner, purpose, d) in services {
        let mut v = Visit::new(local_at(d, 570), account_id, owner, act::Kind::Meeting, true);
        v.minutes = Some(120);
        v.place = Some(V_PLACES[0]);
        v.objective = Some(if purpose == "executive_visit" {
            "高层互访，回顾年度合作"
        } else {
            "新产品技术交流会"
        });
        v.summary = Some(V_SUMMARIES[1]);
        v.attitude = Some("warm");
        v.purpose = Some(purpose);
        visits.push(v);
    }
    // Numbered in time order, as recording them would have.
    visits.sort_by_key(|v| v.at);

    let follow_up_days = act::Targets::default().follow_up_days;
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let now_s = ts(now);
    // Check-in (签到): two of three face-to-face visits done were checked in, near the centre of
    // the account's city (its branch's), so the statistics show a share.
    let mut city_of: HashMap<i64, (i64, i64)> = HashMap::new();
    for r in sqlx::query("SELECT a.id, o.name FROM accounts a JOIN org_units o ON o.id = a.branch_id")
        .fetch_all(tx.conn())
        .await?
    {
        let name: String = r.try_get("name")?;
        if let Some((_, lat, lon)) = CITY_CENTRES.iter().find(|(c, _, _)| name.starts_with(c)) {
            city_of.insert(r.try_get("id")?, (*lat, *lon));
        }
    }
    let mut face_to_face_done = 0i64;
    for v in &visits {
        let local = act::local_day(v.at, tz);
        let effective = act::is_effective(act::Facts {
            kind: v.kind,
            status: if v.done { act::Status::Done } else { act::Status::Planned },
            outcome: v.outcome,
            has_opportunity: v.opportunity_id.is_some(),
            names_problem: v.problems.is_some(),
        });
        let follow_up = (v.done && v.kind.face_to_face() && follows.contains(&v.account_id))
            .then(|| day(local + Duration::days(follow_up_days)));
        let at = ts(v.at);
        let recorded = if v.done { ts(v.at + Duration::minutes(v.minutes.unwrap_or(10))) } else { now_s.clone() };
        let id: i64 = sqlx::query(
            "INSERT INTO activities (account_id, opportunity_id, owner_id, kind, status, planned_at, occurred_at, ends_at, \
             local_day, week, place, participants, objective, materials, talking_points, customer_views, problems, \
             next_steps, summary, outcome, customer_attitude, effective, follow_up_due, purpose, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, \
             $25, 1, $24, $24) RETURNING id",
        )
        .bind(v.account_id)
        .bind(v.opportunity_id)
        .bind(v.owner_id)
        .bind(v.kind.code())
        .bind(if v.done { "done" } else { "planned" })
        .bind(v.planned.then(|| at.clone()))
        .bind(v.done.then(|| at.clone()))
        .bind(v.minutes.map(|m| ts(v.at + Duration::minutes(m))))
        .bind(day(local))
        .bind(day(act::monday(local)))
        .bind(v.place)
        .bind(v.participants.clone())
        .bind(v.objective)
        .bind(v.materials)
        .bind(v.talking_points)
        .bind(v.customer_views)
        .bind(v.problems)
        .bind(v.next_steps)
        .bind(v.summary)
        .bind(v.outcome.code())
        .bind(v.attitude)
        .bind(effective as i64)
        .bind(follow_up)
        .bind(recorded)
        .bind(v.purpose)
        .fetch_one(tx.conn())
        .await
        .context("demo activity")?
        .try_get("id")?;
        if v.done && v.kind.face_to_face() {
            face_to_face_done += 1;
            if let (true, Some((lat, lon))) = (face_to_face_done % 3 != 0, city_of.get(&v.account_id)) {
                // Within a few kilometres of the centre, the fix two minutes before the visit.
                let (dlat, dlon) = ((id * 7919) % 40_000 - 20_000, (id * 104_729) % 50_000 - 25_000);
                sqlx::query(
                    "UPDATE activities SET checked_in = 1, check_in_lat_e6 = $1, check_in_lon_e6 = $2, \
                     check_in_accuracy_m = $3, check_in_at = $4 WHERE id = $5",
                )
                .bind(lat + dlat)
                .bind(lon + dlon)
                .bind(8 + id % 40)
                .bind(ts(v.at - Duration::minutes(2)))
                .bind(id)
                .execute(tx.conn())
                .await?;
            }
        }
        for (cid, att) in &v.met {
            sqlx::query("INSERT INTO activity_contacts (activity_id, contact_id, attitude) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(*cid)
                .bind(Some(att.as_str()).filter(|a| !a.is_empty()))
                .execute(tx.conn())
                .await?;
        }
    }
    // Each follow-up answered by the account's next done contact, as recording them in order
    // would have (`app::activities`).
    sqlx::query(
        "UPDATE activities SET followed_up_by = (SELECT l.id FROM activities l WHERE l.account_id = activities.account_id \
         AND l.status = 'done' AND l.deleted_at IS NULL AND l.occurred_at > activities.occurred_at \
         ORDER BY l.occurred_at, l.id LIMIT 1) WHERE follow_up_due IS NOT NULL",
    )
    .execute(tx.conn())
    .await?;
    for (uid, week) in plan_weeks {
        let submitted = ts(local_at(week - Duration::days(3), 17 * 60 + 30));
        sqlx::query(
            "INSERT INTO visit_plans (owner_id, week, status, note, submitted_at, version, created_at, updated_at) \
             VALUES ($1, $2, 'submitted', $3, $4, 1, $4, $4)",
        )
        .bind(uid)
        .bind(day(week))
        .bind((week == this_week).then_some("本周重点：推进在谈项目技术交流，回访重点客户"))
        .bind(submitted)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// One key-account screening the rep submitted four days ago, still waiting for the KA director
/// past its three-day deadline: the running server's scheduler escalates it by itself.
async fn overdue_screening(db: &Db, rep: i64) -> anyhow::Result<()> {
    use crate::app::{classification::screenings, people::auth};
    let Some(account) = sqlx::query(
        "SELECT a.id FROM accounts a WHERE a.owner_id = $1 AND a.status = 'prospect' AND a.deleted_at IS NULL ORDER BY a.id LIMIT 1",
    )
    .bind(rep)
    .fetch_optional(&db.pool)
    .await?
    else {
        return Ok(());
    };
    let account: i64 = account.try_get("id")?;
    let caller = auth::load_caller(db, rep).await?.context("the demo rep")?;
    let ctx = Ctx { caller, request_id: "demo".into() };
    let form = serde_json::json!({
        "sales_amount": "年采购额约 800 万元，近两年逐年增长",
        "market_influence": "行业标杆企业，省内同行多以其为参照",
        "loyalty": "与我司合作三年，续约稳定",
        "strategic_region": "华北重点城市，辐射京津冀",
        "needs_analysis": "生产线数字化改造，需要测量设备与系统集成",
        "resource_assessment": "本地技术团队可支持，交付周期可控",
        "fit": "产品线与需求高度匹配",
        "competitor_analysis": "主要对手为进口品牌，价格高、服务响应慢",
        "risk": {"competitive_advantage": 4, "customer_need": 5, "competitor_strength": 3, "payment_ability": 4, "relationship": 3}
    });
    let s = screenings::submit(db, &ctx, account, &form).await.map_err(|e| anyhow::anyhow!("demo screening: {e}"))?;
    let Some(approval) = s.approval_id else { return Ok(()) };
    // As if submitted four days ago: the director's three days ran out yesterday.
    let (opened, due) =
        (chrono::Utc::now() - chrono::Duration::days(4), chrono::Utc::now() - chrono::Duration::days(1));
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE approval_steps SET opened_at = $1, due_at = $2 WHERE approval_id = $3 AND state = 'open'")
        .bind(crate::db::ts(opened))
        .bind(crate::db::ts(due))
        .bind(approval)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE approvals SET created_at = $1 WHERE id = $2")
        .bind(crate::db::ts(opened))
        .bind(approval)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The development plan (大客户开发方案, issue 22) of the rep's next prospect: its value, our
/// advantages, the method, two competitors and three steps (one done), with the plan's
/// assessment of market influence 5 and loyalty 4 — which meets two of the default
/// identification criteria, so the KA director finds it on the candidate list beside the
/// prospects whose buying power and trailing sales meet them.
async fn demo_development(db: &Db, rep: i64) -> anyhow::Result<()> {
    use crate::app::{people::auth, visits::development_plans as plans};
    let Some(account) = sqlx::query(
        "SELECT a.id FROM accounts a WHERE a.owner_id = $1 AND a.status = 'prospect' AND a.deleted_at IS NULL ORDER BY a.id LIMIT 1",
    )
    .bind(rep)
    .fetch_optional(&db.pool)
    .await?
    else {
        return Ok(());
    };
    let account: i64 = account.try_get("id")?;
    let caller = auth::load_caller(db, rep).await?.context("the demo rep")?;
    let username = caller.username.clone();
    let ctx = Ctx { caller, request_id: "demo".into() };
    let day = |d: i64| (Utc::now() + Duration::days(d)).format("%Y-%m-%d").to_string();
    let step = |step: &str, due: String, done: bool| plans::DevStepIn {
        step: step.into(),
        owner: Some(username.clone()),
        due_on: Some(due),
        done,
    };
    let inp = plans::DevPlanIn {
        dev_value: Some("年度采购量约 600 万元，为省内同行标杆，进入其供应商名录可带动周边同类企业".into()),
        advantages: Some("本地技术团队 48 小时到场；测量系统与其现有产线兼容，综合采购成本低于进口品牌".into()),
        method: Some("先寄送产品与成功案例资料，邀请参加季度产品推广会，随后由大客户经理上门拜访设备部".into()),
        competitors: vec![
            plans::DevCompetitor {
                name: "进口品牌 A".into(),
                position: Some("现有主供应商，份额约七成，服务响应慢".into()),
            },
            plans::DevCompetitor {
                name: "本地厂商 B".into(), position: Some("价格低，技术方案较弱".into())
            },
        ],
        steps: vec![
            step("寄送产品与案例资料", day(-10), true),
            step("邀请参加季度产品推广会", day(7), false),
            step("上门拜访设备部，了解产线改造需求", day(21), false),
        ],
        market_influence: Some(5),
        loyalty: Some(4),
        version: 0,
    };
    plans::save(db, &ctx, account, &inp).await.map_err(|e| anyhow::anyhow!("demo development plan: {e}"))?;
    Ok(())
}

/// Account plans (issue 23) of the strategic accounts, each begun by its owner: the first being
/// drafted for the year being planned, with two objectives and two milestones; the second the
/// same, submitted and waiting for the gm's review; the third's plan of this year submitted late,
/// its review overdue (due on the calendar's review date, already past).
async fn demo_account_plans(db: &Db) -> anyhow::Result<()> {
    use crate::app::{people::auth, plans};
    use crate::domain::account_plan as ap;
    let strategic = sqlx::query(
        "SELECT id, owner_id FROM accounts WHERE tier = 'strategic' AND status = 'key_account' \
         AND owner_id IS NOT NULL AND deleted_at IS NULL ORDER BY id LIMIT 3",
    )
    .fetch_all(&db.pool)
    .await?;
    let today = Utc::now().date_naive();
    let next = if today.month() >= 9 { today.year() + 1 } else { today.year() };
    for (i, r) in strategic.iter().enumerate() {
        let (account, owner): (i64, i64) = (r.try_get("id")?, r.try_get("owner_id")?);
        let caller = auth::load_caller(db, owner).await?.context("the account's owner")?;
        let me = caller.username.clone();
        let ctx = Ctx { caller, request_id: "demo".into() };
        let year = if i == 2 { today.year() } else { next };
        let view =
            plans::plans::create(db, &ctx, account, year).await.map_err(|e| anyhow::anyhow!("demo plan: {e}"))?;
        let due = |m: u32, d: u32| chrono::NaiveDate::from_ymd_opt(year, m, d).map(|d| d.to_string());
        let mut body = view.plan.body.clone();
        body.customer.strategy = Some("以数字化转型为核心，三年内完成核心业务系统国产化替代".into());
        body.customer.decision_process = Some("需求部门提出，信息中心技术评审，采购部招标，分管副总审批".into());
        body.performance.attention = Some("竞争对手加大价格投入，需关注采购部态度变化".into());
        body.competition.needs = Some("稳定可靠、本地服务及时、总体拥有成本低".into());
        body.objectives = vec![
            ap::Objective {
                key: String::new(),
                title: "钱包份额提升至 40%".into(),
                owner: Some(me.clone()),
                measure: Some(ap::Measure::Share),
                target: Some("40".into()),
                opportunity_id: None,
                due_on: due(12, 31),
                status: None,
                percent: None,
                actual: None,
            },
            ap::Objective {
                key: String::new(),
                title: "年度订货额达到 300 万元".into(),
                owner: Some(me.clone()),
                measure: Some(ap::Measure::Revenue),
                target: Some("3000000".into()),
                opportunity_id: None,
                due_on: due(12, 31),
                status: None,
                percent: None,
                actual: None,
            },
        ];
        let action = |title: &str, on: Option<String>| ap::Action {
            key: String::new(),
            title: title.into(),
            kind: ap::ActionKind::Member,
            project: None,
            owner: Some(me.clone()),
            due_on: on,
            milestone: true,
            budget: Some("20000".into()),
            status: None,
            percent: Some(0),
        };
        body.actions.actions = vec![action("高层互访", due(3, 31)), action("核心系统扩容项目投标", due(6, 30))];
        body.forecast = (0..5)
            .map(|n| ap::ForecastRow {
                year: year + n,
                region: None,
                platform: None,
                revenue: format!("{}", 3_000_000 + n as i64 * 500_000),
                contribution: format!("{}", 600_000 + n as i64 * 100_000),
                cost: "80000".into(),
            })
            .collect();
        plans::plans::save(db, &ctx, view.plan.id, &body, view.plan.version)
            .await
            .map_err(|e| anyhow::anyhow!("demo plan: {e}"))?;
        if i > 0 {
            plans::reviews::submit(db, &ctx, view.plan.id, Utc::now())
                .await
                .map_err(|e| anyhow::anyhow!("demo plan review: {e}"))?;
        }
    }
    Ok(())
}

/// Customer suggestions of 林涛's (rep) accounts (issue 24): one answered, one waiting for the
/// logistics and finance managers' opinions after the KA director's review, one just received
/// whose promised reply date is near.
/// The first `n` key accounts of `rep`, by id.
async fn rep_key_accounts(db: &Db, user_ids: &HashMap<&str, i64>, n: i64) -> anyhow::Result<Vec<i64>> {
    Ok(sqlx::query(
        "SELECT id FROM accounts WHERE owner_id = $1 AND status = 'key_account' AND deleted_at IS NULL ORDER BY id LIMIT $2",
    )
    .bind(user_ids["rep"])
    .bind(n)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?)
}

/// The context of the demo user `u` (by their username), for writing through the use cases.
async fn demo_ctx(db: &Db, user_ids: &HashMap<&str, i64>, u: &str) -> anyhow::Result<Ctx> {
    let caller = crate::app::people::auth::load_caller(db, user_ids[u]).await?.context("a demo user")?;
    Ok(Ctx { caller, request_id: "demo".into() })
}

async fn demo_suggestions(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::suggestions::suggestions as sg;
    let [first, second] = rep_key_accounts(db, user_ids, 2).await?[..] else { return Ok(()) };
    let err = |e: crate::domain::DomainError| anyhow::anyhow!("demo suggestions: {e}");
    let rep = demo_ctx(db, user_ids, "rep").await?;
    let today = act::local_day(Utc::now(), chrono_tz::Asia::Shanghai);
    let day = |n: i64| (today + Duration::days(n)).format("%Y-%m-%d").to_string();
    let new = |channel: &str, category: &str, content: &str, received: i64, due: i64| sg::SuggestionIn {
        channel: Some(channel.into()),
        category: Some(category.into()),
        received_on: Some(day(received)),
        contact_id: None,
        content: Some(content.into()),
        thanks: Some("已当面致谢，并告知处理流程与答复时间".into()),
        reply_due: Some(day(due)),
    };
    // Waiting for two departments.
    let v = sg::create(db, &rep, first, &new("in_person", "delivery", "希望备件交货周期由 15 天缩短到 7 天", -6, 14))
        .await
        .map_err(err)?;
    let report = sg::SuggestionReportIn {
        cause: Some("备件集中在华东仓，发往华北需中转".into()),
        feasibility: Some("可在华北仓增设常用备件库存，需物流和财务评估".into()),
        departments: vec![
            crate::domain::approval::Pick { role: "logistics_manager".into(), days: Some(5) },
            crate::domain::approval::Pick { role: "finance_manager".into(), days: Some(3) },
        ],
        version: v.version,
    };
    let v = sg::submit(db, &rep, v.id, &report).await.map_err(err)?;
    let director = demo_ctx(db, user_ids, "director").await?;
    if let Some(aid) = v.approval_id {
        crate::app::approvals::decide(db, &director, aid, "approve", Some("请物流、财务会签"), Utc::now())
            .await
            .map_err(err)?;
    }
    // Just received, its reply due in three days.
    sg::create(db, &rep, second, &new("phone", "service", "希望每季度安排一次技术交流", -1, 3)).await.map_err(err)?;
    Ok(())
}

/// A contact erased at their request (个人信息保护法; issue 26): 赵文涛, the former head of
/// purchasing at the rep's first key account, met at a visit written up by name, left the
/// company and asked for his data to go. The KA manager erased it: his contact card shows
/// "erased contact", the visit stays with its words but without his name.
async fn demo_erased_contact(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::customers::privacy;
    use crate::app::records::input::Input;
    use crate::app::visits::activities;
    let account = rep_key_accounts(db, user_ids, 1).await?.first().copied();
    let Some(account) = account else { return Ok(()) };
    let err = |e: crate::domain::DomainError| anyhow::anyhow!("demo erased contact: {e}");
    let rep = demo_ctx(db, user_ids, "rep").await?;
    let c = contacts::create(
        db,
        &rep,
        account,
        &Input::from_pairs(&[
            ("name", Some("赵文涛")),
            ("gender", Some("male")),
            ("department", Some("采购部")),
            ("title", Some("原采购科长")),
            ("phone", Some("13801012345")),
            ("email", Some("zhao.wentao@example.cn")),
            ("interests", Some("钓鱼")),
        ]),
    )
    .await
    .map_err(err)?;
    let met = (Utc::now() - Duration::days(40)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    activities::create(
        db,
        &rep,
        &Input::from_pairs(&[
            ("account_id", Some(&account.to_string())),
            ("kind", Some("visit")),
            ("status", Some("done")),
            ("occurred_at", Some(&met)),
            ("summary", Some("与赵文涛交接采购工作；赵文涛下月离职，新任科长待定")),
            ("next_steps", Some("拜访新任采购科长")),
        ]),
        Some(&[(c.id, Some("neutral".to_string()))]),
    )
    .await
    .map_err(err)?;
    // The visit moved the contact's last contact day (and its version) on.
    let version: i64 = sqlx::query("SELECT version FROM contacts WHERE id = $1")
        .bind(c.id)
        .fetch_one(&db.pool)
        .await?
        .try_get("version")?;
    let manager = demo_ctx(db, user_ids, "manager").await?;
    privacy::erase(db, &manager, c.id, version).await.map_err(err)?;
    Ok(())
}

/// The performance contracts and team performance (issue 25 items 5–6): a contract of this year
/// for every salesperson (the KA director's issued by the sales department manager, the others'
/// by their manager), acknowledged by both sides; the team's inner satisfaction entered for the
/// Beijing reps; the northern region's coefficient 0.95 for the year and its evaluation of last
/// quarter; 林涛's three closed years at 90 % or more (flagged for promotion) and 何雪's two (not);
/// last year's best team and a quarterly award.
async fn demo_kpi(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::kpi::contracts as kc;
    use crate::app::kpi::team as kt;
    use crate::app::kpi::templates::Indicator;
    let err = |e: crate::domain::DomainError| anyhow::anyhow!("demo kpi: {e}");
    let today = act::local_day(Utc::now(), chrono_tz::Asia::Shanghai);
    let year = today.year() as i64;
    let people: Vec<(String, String, Option<String>)> = sqlx::query(
        "SELECT u.username, u.role, m.username AS manager FROM users u LEFT JOIN users m ON m.id = u.manager_id \
         WHERE u.active = 1 AND u.role IN ('ka_director', 'ka_manager', 'ka_rep') ORDER BY u.id",
    )
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("username")?, r.try_get("role")?, r.try_get("manager")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let version = |v: &kc::ContractView| kc::VersionIn { version: v.version };
    for (username, role, manager) in &people {
        let issuer = demo_ctx(db, user_ids, manager.as_deref().unwrap_or("director")).await?;
        let holder = demo_ctx(db, user_ids, username).await?;
        let bonus = match role.as_str() {
            "ka_director" => "150000.00",
            "ka_manager" => "100000.00",
            _ => "60000.00",
        };
        let inp = kc::ContractIn {
            user_id: user_ids[username.as_str()],
            year,
            bonus_base: Some(bonus.into()),
            indicators: None,
        };
        let v = kc::create(db, &issuer, &inp).await.map_err(err)?;
        let v = kc::acknowledge(db, &holder, v.id, &version(&v)).await.map_err(err)?;
        let v = kc::acknowledge(db, &issuer, v.id, &version(&v)).await.map_err(err)?;
        if matches!(username.as_str(), "rep" | "rep2") {
            let a = kc::ActualIn {
                indicator: "team_satisfaction".into(),
                period: year.to_string(),
                value: if username == "rep" { "95.00".into() } else { "88.00".into() },
                note: Some("部门内部季度问卷".into()),
                version: 0,
            };
            kc::set_actual(db, &issuer, v.id, &a).await.map_err(err)?;
        }
    }
    // Earlier years, from the paper contracts: one overall indicator, closed.
    let manager = demo_ctx(db, user_ids, "manager").await?;
    let overall = vec![Indicator {
        key: "overall".into(),
        category: "financial".into(),
        name: "年度综合考评".into(),
        measure: "manual".into(),
        kind: "percent".into(),
        unit: "%".into(),
        weight: 100,
        target: "100.00".into(),
        lower_is_better: false,
    }];
    for (who, scores) in
        [("rep", vec![(3, "93.00"), (2, "95.50"), (1, "91.00")]), ("rep2", vec![(2, "92.00"), (1, "90.00")])]
    {
        for (back, score) in scores {
            let y = year - back;
            let inp = kc::ContractIn {
                user_id: user_ids[who],
                year: y,
                bonus_base: Some("50000.00".into()),
                indicators: Some(overall.clone()),
            };
            let v = kc::create(db, &manager, &inp).await.map_err(err)?;
            let a = kc::ActualIn {
                indicator: "overall".into(),
                period: y.to_string(),
                value: score.into(),
                note: None,
                version: 0,
            };
            let v = kc::set_actual(db, &manager, v.id, &a).await.map_err(err)?;
            kc::close(db, &manager, v.id, &version(&v)).await.map_err(err)?;
        }
    }
    let director = demo_ctx(db, user_ids, "director").await?;
    let north: i64 =
        sqlx::query("SELECT id FROM org_units WHERE code = 'NORTH'").fetch_one(&db.pool).await?.try_get("id")?;
    let k = kt::CoefficientIn { org_unit_id: north, period: year.to_string(), coefficient: "0.95".into(), version: 0 };
    kt::set_coefficient(db, &director, &k).await.map_err(err)?;
    let q = (today.month0() / 3) as i64;
    let last_q = if q == 0 { format!("{}-Q4", year - 1) } else { format!("{year}-Q{q}") };
    let e = kt::EvaluationIn {
        org_unit_id: north,
        period: last_q.clone(),
        targets_met: Some("季度销售额完成96%，新签两家重点客户；回款略低于目标".into()),
        met_pct: "96.00".into(),
        next_targets: Some("本季度回款率达到95%，推进三个重点商机进入谈判阶段".into()),
        next_revenue: "3000000.00".into(),
        version: 0,
    };
    kt::evaluate(db, &manager, &e).await.map_err(err)?;
    let best = kt::AwardIn {
        kind: "best_team".into(),
        period: (year - 1).to_string(),
        org_unit_id: Some(north),
        user_id: None,
        title: Some("年度最佳团队".into()),
        reason: Some("全年销售额与回款均超额完成".into()),
    };
    kt::award(db, &director, &best).await.map_err(err)?;
    let star = kt::AwardIn {
        kind: "quarterly".into(),
        period: last_q,
        org_unit_id: None,
        user_id: Some(user_ids["rep"]),
        title: Some("季度销售之星".into()),
        reason: Some("季度个人销售额第一".into()),
    };
    kt::award(db, &director, &star).await.map_err(err)?;
    Ok(())
}

/// The year's budgets and spending (issue 25 items 3–4): every cost centre's budget drafted by
/// the KA director and approved by the sales department manager — HQ's after the finance
/// manager's question in the 质询 round was answered —; the Beijing branch's travel signed by
/// the KA director; a dinner beyond the entertainment line waiting for the finance manager;
/// an executive resource request (the general manager to one of 林涛's key accounts) approved,
/// its executive visit on the account.
async fn demo_budgets(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::budgets::{budgets as bg, exec as ex, spending as sp};
    let err = |e: crate::domain::DomainError| anyhow::anyhow!("demo budgets: {e}");
    let (director, sdm, finance, rep) = (
        demo_ctx(db, user_ids, "director").await?,
        demo_ctx(db, user_ids, "sales.manager").await?,
        demo_ctx(db, user_ids, "finance").await?,
        demo_ctx(db, user_ids, "rep").await?,
    );
    let today = act::local_day(Utc::now(), chrono_tz::Asia::Shanghai);
    let year = today.year() as i64;
    let units: Vec<(i64, String, String)> = sqlx::query("SELECT id, code, kind FROM org_units ORDER BY path")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("code")?, r.try_get("kind")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let line = |category: &str, month: i64, yuan: i64| bg::BudgetLineIn {
        category: category.into(),
        month,
        amount: format!("{yuan}.00"),
    };
    let mut bj = None;
    for (id, code, kind) in &units {
        // HQ carries the department's events and bids; a region its travel and entertainment;
        // a branch the day-to-day.
        let scale = match kind.as_str() {
            "hq" => 4,
            "region" => 2,
            _ => 1,
        };
        let mut lines = vec![
            line("travel", 0, 60_000 * scale),
            line("entertainment", 0, 36_000 * scale),
            line("samples", 0, 10_000 * scale),
            line("others", 0, 6_000 * scale),
        ];
        if kind == "hq" {
            lines.push(line("events", 0, 300_000));
            lines.push(line("bids", 0, 120_000));
        }
        let inp = bg::BudgetIn { cost_centre_id: *id, year, note: None, lines };
        let b = bg::create(db, &director, &inp).await.map_err(err)?;
        if kind == "hq" {
            bg::ask(
                db,
                &finance,
                b.id,
                &bg::BudgetQuestionIn {
                    question: Some("市场活动费比去年增加较多，主要用于哪些活动？".into())
                },
            )
            .await
            .map_err(err)?;
            let v = bg::get(db, &director.caller, b.id).await.map_err(err)?;
            let q = v.questions.first().map(|q| q.id).context("the question")?;
            bg::answer(
                db,
                &director,
                b.id,
                q,
                &bg::BudgetAnswerIn {
                    answer: Some("新增两场行业技术交流会和年度客户答谢会".into())
                },
            )
            .await
            .map_err(err)?;
        }
        let v = bg::get(db, &director.caller, b.id).await.map_err(err)?;
        let v = bg::submit(db, &director, b.id, &bg::BudgetVersionIn { version: v.version }).await.map_err(err)?;
        let aid = v.approval_id.context("the budget's request")?;
        crate::app::approvals::decide(db, &sdm, aid, "approve", None, Utc::now()).await.map_err(err)?;
        if code == "BJ" {
            bj = Some(*id);
        }
    }
    let Some(bj) = bj else { return Ok(()) };
    let account = rep_key_accounts(db, user_ids, 1).await?.first().copied();
    let spend = |category: &str, days_ago: i64, yuan: &str, purpose: &str| sp::SpendingIn {
        cost_centre_id: Some(bj),
        category: Some(category.into()),
        spent_on: Some(
            (today - Duration::days(days_ago))
                .max(NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today))
                .to_string(),
        ),
        amount: Some(yuan.into()),
        purpose: Some(purpose.into()),
        account_id: account,
    };
    // Inside the line: travel signed by the KA director; a taxi waiting for his signature.
    let s = sp::create(db, &rep, &spend("travel", 12, "2860.00", "北京—天津客户拜访差旅")).await.map_err(err)?;
    sp::sign(db, &director, s.id, s.version).await.map_err(err)?;
    sp::create(db, &rep, &spend("travel", 2, "186.00", "拜访客户出租车费")).await.map_err(err)?;
    // Beyond the entertainment line: the dinner waits for the finance manager.
    sp::create(db, &rep, &spend("entertainment", 10, "30000.00", "宴请客户高层，商谈年度框架协议"))
        .await
        .map_err(err)?;
    sp::create(db, &rep, &spend("entertainment", 3, "12800.00", "年度合作答谢晚宴")).await.map_err(err)?;
    // An executive resource request, approved: the general manager's visit is on the account.
    if let Some(account) = account {
        let inp = ex::ExecRequestIn {
            account_id: Some(account),
            executive_id: Some(user_ids["gm"]),
            purpose: Some("拜访客户总经理，推动年度框架协议".into()),
            expected_result: Some("年内签订三年框架协议".into()),
            visit_on: Some(today.to_string()),
        };
        let x = ex::create(db, &rep, &inp).await.map_err(err)?;
        let aid = x.approval_id.context("the request")?;
        crate::app::approvals::decide(db, &director, aid, "approve", Some("同意，请提前准备汇报材料"), Utc::now())
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// The sales-credit split (issue 25 item 7): the KA director confirms the manual's dual
/// crediting (100 % to the KA team and 100 % to the branch); each region's KA manager signs an
/// order of one of their key accounts (within their authority; after the demo's history, the
/// credit check set aside), so both sides' attainment shows
/// numbers; the KA department spends on an industry event at HQ and on travel in the North
/// region, signed by the KA director, so the virtual profit centre has costs.
async fn demo_attainment(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::attainment::split;
    use crate::app::budgets::spending as sp;
    use crate::app::orders::orders as o;
    let err = |e: crate::domain::DomainError| anyhow::anyhow!("demo attainment: {e}");
    let director = demo_ctx(db, user_ids, "director").await?;
    let inp = split::CreditSplitIn {
        team_share: Some("100".into()),
        branch_share: Some("100".into()),
        note: Some("按手册业绩双计：大客户团队与成交分公司各计 100%".into()),
        version: 0,
    };
    split::set(db, &director, &inp).await.map_err(err)?;
    for (manager, contract) in
        [("manager", "HT-KA-N-01"), ("manager2", "HT-KA-E-01"), ("manager3", "HT-KA-S-01"), ("manager4", "HT-KA-W-01")]
    {
        let account: Option<i64> = sqlx::query(
            "SELECT id FROM accounts WHERE ka_manager_id = $1 AND branch_id IS NOT NULL AND deleted_at IS NULL \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(user_ids[manager])
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
        let Some(account) = account else { continue };
        let ctx = demo_ctx(db, user_ids, manager).await?;
        let body: o::OrderIn = serde_json::from_value(serde_json::json!({
            "account_id": account,
            "contract_no": contract,
            "lines": [
                {"product_code": "NET-S6850", "quantity": "2", "unit_price": "54000.00"},
                {"product_code": "SRV-R750", "quantity": "1", "unit_price": "125000.00"}
            ],
            "payment_terms": [{"kind": "advance", "percent": "100", "due": "30 days after invoice"}]
        }))?;
        let v = o::create(db, &ctx, o::Origin::Account(account), &body).await.map_err(err)?;
        o::submit(db, &ctx, v.id, &o::Action { version: v.version, reason: None }).await.map_err(err)?;
    }
    let today = act::local_day(Utc::now(), chrono_tz::Asia::Shanghai).to_string();
    let units: HashMap<String, i64> = sqlx::query("SELECT id, code FROM org_units WHERE code IN ('HQ', 'NORTH')")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("code")?, r.try_get("id")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    for (who, unit, category, yuan, purpose) in [
        ("sales.manager", "HQ", "events", "45000.00", "大客户行业技术交流会场地与会务"),
        ("manager", "NORTH", "travel", "6800.00", "华北大区重点客户季度拜访差旅"),
    ] {
        let Some(cc) = units.get(unit).copied() else { continue };
        let ctx = demo_ctx(db, user_ids, who).await?;
        let inp = sp::SpendingIn {
            cost_centre_id: Some(cc),
            category: Some(category.into()),
            spent_on: Some(today.clone()),
            amount: Some(yuan.into()),
            purpose: Some(purpose.into()),
            account_id: None,
        };
        let s = sp::create(db, &ctx, &inp).await.map_err(err)?;
        if s.state == "submitted" {
            sp::sign(db, &director, s.id, s.version).await.map_err(err)?;
        }
    }
    Ok(())
}

/// Tenders and negotiation rounds of 林涛 (rep) on opportunities of Beijing accounts: one bid
/// waiting for its bid exception (a bond above the limit: the commercial manager, then the
/// Beijing branch manager), one won, one whose deadlines fall within the week; two rounds of
/// negotiation, the second asking for a 12 % discount (his manager, then the KA director).
async fn bids_and_negotiations(db: &Db, rep: i64) -> anyhow::Result<()> {
    use crate::app::people::auth;
    use crate::app::quotes::{bids, negotiations};
    let opps: Vec<(i64, String)> = sqlx::query(
        "SELECT o.id, a.name FROM opportunities o JOIN accounts a ON a.id = o.account_id \
         JOIN org_units b ON b.id = a.branch_id WHERE o.owner_id = $1 AND b.code = 'BJ' AND o.deleted_at IS NULL \
         AND o.stage IN ('qualified', 'developed', 'committed') ORDER BY o.id LIMIT 3",
    )
    .bind(rep)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    if opps.len() < 3 {
        return Ok(());
    }
    let caller = auth::load_caller(db, rep).await?.context("the demo rep")?;
    let ctx = Ctx { caller, request_id: "demo".into() };
    let err = |e: crate::domain::DomainError| anyhow::anyhow!("demo bids: {e}");
    let today = act::local_day(Utc::now(), chrono_tz::Asia::Shanghai);
    let day = |n: i64| (today + Duration::days(n)).format("%Y-%m-%d").to_string();
    let tender = |issuer: &str, no: &str, q: i64, sub: i64, bond: &str, ret: i64| bids::BidIn {
        issuer: Some(issuer.to_string()),
        tender_no: Some(no.to_string()),
        questions_due: Some(day(q)),
        submission_due: Some(day(sub)),
        bond_amount: Some(bond.to_string()),
        bond_return_on: Some(day(ret)),
        documents: Some("营业执照副本、ISO9001 质量体系证书、近三年同类项目业绩、技术方案、报价文件".into()),
        ..Default::default()
    };
    let decide = |b: &bids::BidView, reasons: &str, price: &str, note: Option<&str>| bids::DecideIn {
        version: b.version,
        decision: "bid".into(),
        reasons: Some(reasons.into()),
        bid_price: Some(price.into()),
        below_floor: false,
        terms_outside_policy: false,
        exception_note: note.map(str::to_string),
    };
    // Waiting for its exception: a bond of 800,000 元 is above the 500,000 元 limit.
    let (o, name) = &opps[0];
    let b = bids::create(db, &ctx, *o, &tender(name, "BJZB-2027-0315", 6, 20, "800000.00", 80)).await.map_err(err)?;
    let d = decide(
        &b,
        "客户信息中心扩容项目，我司方案通过技术预审，关系稳固",
        "4860000.00",
        Some("招标文件要求保证金 80 万元，高于公司限额"),
    );
    bids::decide(db, &ctx, b.id, &d).await.map_err(err)?;
    // Won.
    let (o, name) = &opps[1];
    let b = bids::create(db, &ctx, *o, &tender(name, "BJZB-2026-1108", -45, -35, "60000.00", -5)).await.map_err(err)?;
    let b =
        bids::decide(db, &ctx, b.id, &decide(&b, "老客户续购，竞争对手少", "1280000.00", None)).await.map_err(err)?;
    let won = bids::ResultIn {
        version: b.version,
        result: "won".into(),
        winner: None,
        winning_price: Some("1280000.00".into()),
        note: Some("技术分第一，商务分第二".into()),
        close_opportunity: false,
    };
    bids::record_result(db, &ctx, b.id, &won).await.map_err(err)?;
    // Due this week, decided within authority.
    let (o, name) = &opps[2];
    let b = bids::create(db, &ctx, *o, &tender(name, "BJZB-2027-0402", 2, 5, "30000.00", 40)).await.map_err(err)?;
    bids::decide(db, &ctx, b.id, &decide(&b, "需求明确，预算已批复", "690000.00", None)).await.map_err(err)?;
    // Two rounds on the first deal; the second asks for authority beyond the rep's 5 %.
    let (o, _) = &opps[0];
    let round = |held: i64, theirs: &str, asked: Option<&str>| negotiations::RoundIn {
        held_on: Some(day(held)),
        participants: Some("客户采购部刘经理、信息中心王主任；我方林涛、售前工程师张伟".into()),
        our_position: Some("总价 486 万元，含三年原厂维保和驻场实施".into()),
        their_position: Some(theirs.into()),
        concessions: Some("我方同意免费延长维保一年".into()),
        next_step: Some("三天内回复最终价格".into()),
        asked_discount: asked.map(str::to_string),
        escalation_reason: asked.map(|_| "竞品报价低约 10%，需 12% 折扣保住项目".to_string()),
        version: None,
    };
    negotiations::create(db, &ctx, *o, &round(-10, "要求总价降至 450 万元以内", None)).await.map_err(err)?;
    negotiations::create(db, &ctx, *o, &round(-2, "竞品报价 430 万元，要求我方跟进", Some("12"))).await.map_err(err)?;
    Ok(())
}

/// Serving key accounts (issue 24): a service team on the demo rep's key accounts, one service
/// request the KA manager has reviewed and the KA director is to approve, and one technical
/// seminar held last week whose return visit is due (an account with no contact since).
async fn demo_service(db: &Db, rep: i64) -> anyhow::Result<()> {
    use crate::app::service::{events, requests, team};
    use crate::app::{approvals, people::auth};
    let found = sqlx::query(
        "SELECT a.id FROM accounts a WHERE a.owner_id = $1 AND a.status = 'key_account' AND a.deleted_at IS NULL \
         ORDER BY (SELECT COUNT(*) FROM activities l WHERE l.account_id = a.id AND l.status = 'done' \
         AND l.occurred_at > $2), a.id LIMIT 2",
    )
    .bind(rep)
    .bind(ts(Utc::now() - Duration::days(8)))
    .fetch_all(&db.pool)
    .await?;
    let ids: Vec<i64> = found.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
    let Some(&first) = ids.first() else { return Ok(()) };
    let caller = auth::load_caller(db, rep).await?.context("the demo rep")?;
    let ctx = Ctx { caller, request_id: "demo".into() };
    let member = |u: &str, f: &str, r: &str| team::ServiceTeamMemberIn {
        username: u.into(),
        function: f.into(),
        responsibilities: Some(r.into()),
    };
    for &account in &ids {
        let members = vec![
            member("manager", "ka_manager", "统筹客户服务方案，审核服务申请"),
            member("rep2", "sales_support", "订单、交期与现场对接"),
            member("marketing", "marketing_support", "技术交流会与新品推介"),
            member("finance", "finance_support", "账期、开票与对账"),
        ];
        team::put(db, &ctx, account, &team::ServiceTeamIn { members, version: 0 })
            .await
            .map_err(|e| anyhow::anyhow!("demo service team: {e}"))?;
    }
    let now = Utc::now();
    let req = requests::create(
        db,
        &ctx,
        &requests::ServiceRequestIn {
            account_id: Some(first),
            content: Some("新产线试产期间驻厂技术支持两周，并加急供应首批物料".into()),
            deeper_needs: Some("客户希望缩短新产线爬坡期，尽早达产".into()),
            needs_changes: Some("月需求由 2 万件增至 3 万件".into()),
            organisation: Some("客户生产部王工牵头；我方技术支持两人、销售支持一人".into()),
            services: vec!["expedited_supply".into(), "consulting".into(), "point_to_point_delivery".into()],
            submit: true,
            ..Default::default()
        },
        now - Duration::days(2),
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo service request: {e}"))?;
    if let Some(aid) = req.approval_id {
        let manager = sqlx::query("SELECT id FROM users WHERE username = 'manager'").fetch_one(&db.pool).await?;
        let caller = auth::load_caller(db, manager.try_get("id")?).await?.context("the KA manager")?;
        let mctx = Ctx { caller, request_id: "demo".into() };
        approvals::decide(db, &mctx, aid, "approve", Some("客户需求真实，建议支持"), now - Duration::days(1))
            .await
            .map_err(|e| anyhow::anyhow!("demo service request review: {e}"))?;
    }
    let contacts: Vec<i64> =
        sqlx::query("SELECT id FROM contacts WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT 3")
            .bind(first)
            .fetch_all(&db.pool)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
    let day = (now - Duration::days(6)).with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let ev = events::create(
        db,
        &ctx,
        &events::ServiceEventIn {
            account_id: Some(first),
            kind: Some("technical_seminar".into()),
            title: Some("新品技术交流会".into()),
            starts_at: Some(format!("{day}T14:00")),
            place: Some("客户总部二楼会议室".into()),
            invited: contacts.clone(),
            ..Default::default()
        },
        now - Duration::days(10),
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo service event: {e}"))?;
    events::record_held(
        db,
        &ctx,
        ev.id,
        &events::ServiceEventHeld {
            attended: contacts.into_iter().take(2).collect(),
            notes: Some("客户技术部与采购部参加，现场演示新品".into()),
            version: ev.version,
        },
        now - Duration::days(5),
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo service event held: {e}"))?;
    Ok(())
}

/// Issue 24: last quarter's satisfaction survey answered by three key accounts' four
/// departments, logistics scoring delivery low — which opened open points led by the accounts'
/// KA managers.
async fn demo_surveys(db: &Db) -> anyhow::Result<()> {
    use crate::app::people::auth;
    use crate::app::voice::surveys::{self, ResponseInput, ScoreInput};
    let Some(dir) = sqlx::query(
        "SELECT id FROM users WHERE role IN ('ka_director', 'gm') AND active = 1 ORDER BY role DESC, id LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?
    else {
        return Ok(());
    };
    let dir_ctx = Ctx {
        caller: auth::load_caller(db, dir.try_get("id")?).await?.context("the director")?,
        request_id: "demo".into(),
    };
    let last = Utc::now().date_naive() - Duration::days(92);
    let quarter = surveys::quarter_of(last);
    let campaign =
        surveys::open_campaign(db, &dir_ctx, &quarter).await.map_err(|e| anyhow::anyhow!("demo survey: {e}"))?;
    let accounts = sqlx::query(
        "SELECT id, owner_id FROM accounts WHERE status = 'key_account' AND owner_id IS NOT NULL AND deleted_at IS NULL \
         ORDER BY id LIMIT 3",
    )
    .fetch_all(&db.pool)
    .await?;
    for r in &accounts {
        let (account, owner): (i64, i64) = (r.try_get("id")?, r.try_get("owner_id")?);
        let ctx = Ctx {
            caller: auth::load_caller(db, owner).await?.context("the account's owner")?,
            request_id: "demo".into(),
        };
        for dept in surveys::DEPARTMENTS {
            let low = *dept == "logistics";
            let scores = [
                ("overall", if low { 5 } else { 8 }),
                ("quality", 4),
                ("delivery", if low { 2 } else { 4 }),
                ("responsiveness", if low { 3 } else { 4 }),
                ("technical", 4),
                ("commercial", 4),
            ]
            .iter()
            .map(|(q, s)| ScoreInput { question: q.to_string(), score: Some(*s) })
            .collect();
            let input = ResponseInput {
                account_id: account,
                department: dept.to_string(),
                respondent: None,
                scores,
                comment: low.then(|| "到货经常延误，包装破损".to_string()),
            };
            surveys::enter(db, &ctx, campaign, &input).await.map_err(|e| anyhow::anyhow!("demo survey answer: {e}"))?;
        }
    }
    Ok(())
}

/// This year's annual sales plan (issue 25): drafted by the KA director (刘晓东), returned once
/// by the sales department manager (张海涛) with his opinion, revised as version 2 and approved,
/// then decomposed into the year's quotas. Its targets are the salespeople's quotas made above
/// (profit a fifth of revenue), so the V value and forecasts keep their figures.
async fn demo_sales_plan(db: &Db, user_ids: &HashMap<&str, i64>) -> anyhow::Result<()> {
    use crate::app::salesplan::{plan, split};
    use crate::domain::money::format_fen;
    let year = act::local_day(Utc::now(), chrono_tz::Asia::Shanghai).year();
    let rows = sqlx::query(
        "SELECT q.month, q.amount, u.username, u.display_name, b.code AS team, b.name AS team_name, r.code AS region, \
         r.name AS region_name FROM quotas q JOIN users u ON u.id = q.user_id JOIN org_units b ON b.id = u.org_unit_id \
         JOIN org_units r ON r.id = b.parent_id WHERE b.kind = 'branch' AND r.kind = 'region' AND u.active = 1 \
         AND u.role IN ('ka_rep', 'inside_sales', 'ka_manager') AND q.month >= $1 AND q.month <= $2 \
         ORDER BY r.code, b.code, u.username, q.month",
    )
    .bind(format!("{year}-01"))
    .bind(format!("{year}-12"))
    .fetch_all(&db.pool)
    .await?;
    // region → team → person → 12 months of revenue (fen).
    type People = Vec<(String, [i64; 12])>;
    let mut tree: Vec<(String, Vec<(String, People)>)> = vec![];
    for r in &rows {
        let (region, team, user): (String, String, String) =
            (r.try_get("region")?, r.try_get("team")?, r.try_get("username")?);
        let month: String = r.try_get("month")?;
        let Some(m) = month.get(5..7).and_then(|m| m.parse::<usize>().ok()).filter(|m| (1..=12).contains(m)) else {
            continue;
        };
        if tree.last().is_none_or(|x| x.0 != region) {
            tree.push((region.clone(), vec![]));
        }
        let teams = &mut tree.last_mut().context("region")?.1;
        if teams.last().is_none_or(|x| x.0 != team) {
            teams.push((team.clone(), vec![]));
        }
        let people = &mut teams.last_mut().context("team")?.1;
        if people.last().is_none_or(|x| x.0 != user) {
            people.push((user.clone(), [0; 12]));
        }
        people.last_mut().context("person")?.1[m - 1] += r.try_get::<i64, _>("amount")?;
    }
    if tree.is_empty() {
        return Ok(());
    }
    let profit = |v: i64| v / 5;
    let strings =
        |v: &[i64; 12], f: &dyn Fn(i64) -> i64| -> Vec<String> { v.iter().map(|x| format_fen(f(*x))).collect() };
    let sum = |ps: &[&[i64; 12]], f: &dyn Fn(i64) -> i64| -> [i64; 12] {
        let mut out = [0; 12];
        for p in ps {
            for (i, x) in p.iter().enumerate() {
                out[i] += f(*x);
            }
        }
        out
    };
    let id = |x: i64| x;
    let mut targets = vec![];
    let mut split_regions = vec![];
    for (region, teams) in &tree {
        let all: Vec<&[i64; 12]> = teams.iter().flat_map(|t| t.1.iter().map(|p| &p.1)).collect();
        targets.push(plan::RegionTargetsIn {
            region: region.clone(),
            revenue: sum(&all, &id).iter().map(|x| format_fen(*x)).collect(),
            profit: sum(&all, &profit).iter().map(|x| format_fen(*x)).collect(),
        });
        split_regions.push(split::RegionSplitIn {
            region: region.clone(),
            teams: teams
                .iter()
                .map(|(team, people)| {
                    let ps: Vec<&[i64; 12]> = people.iter().map(|p| &p.1).collect();
                    split::TeamSplitIn {
                        team: team.clone(),
                        revenue: sum(&ps, &id).iter().map(|x| format_fen(*x)).collect(),
                        profit: sum(&ps, &profit).iter().map(|x| format_fen(*x)).collect(),
                        people: people
                            .iter()
                            .map(|(u, v)| split::PersonSplitIn {
                                user: u.clone(),
                                revenue: strings(v, &id),
                                profit: strings(v, &profit),
                            })
                            .collect(),
                    }
                })
                .collect(),
        });
    }
    let err = |e: crate::domain::DomainError| anyhow::anyhow!("demo sales plan: {e}");
    let director = demo_ctx(db, user_ids, "director").await?;
    let sdm = demo_ctx(db, user_ids, "sales.manager").await?;
    let mut body = plan::SalesPlanIn {
        targets,
        budget: Some("大客户部费用预算约为计划收入的 3%，其中差旅与招待费占六成".into()),
        people: Some("华北、华东各新增一名大客户经理；内勤增加一人".into()),
        organisation: Some("各大区设大客户组，由大区经理兼管".into()),
        systems: Some("指标按月分解到人，月度经营分析会跟踪完成率".into()),
        actions: vec![plan::PlanActionIn {
            action: Some("重点客户年度高层拜访".into()),
            owner: Some("manager".into()),
            due: Some(format!("{year}-06-30")),
        }],
        version: None,
    };
    let v = plan::create(db, &director, year, &body).await.map_err(err)?;
    plan::submit(db, &director, year, &plan::PlanVersionIn { version: v.version }).await.map_err(err)?;
    let v = plan::review(
        db,
        &sdm,
        year,
        &plan::PlanReviewIn {
            decision: "return".into(), comment: Some("请补充新客户开发的行动计划".into())
        },
    )
    .await
    .map_err(err)?;
    body.actions.push(plan::PlanActionIn {
        action: Some("每个大区开发两家新的重点客户".into()),
        owner: Some("director".into()),
        due: Some(format!("{year}-09-30")),
    });
    body.version = Some(v.version);
    let v = plan::update(db, &director, year, &body).await.map_err(err)?;
    plan::submit(db, &director, year, &plan::PlanVersionIn { version: v.version }).await.map_err(err)?;
    let v =
        plan::review(db, &sdm, year, &plan::PlanReviewIn { decision: "approve".into(), comment: Some("同意".into()) })
            .await
            .map_err(err)?;
    split::save(db, &director, year, &split::SplitIn { regions: split_regions, version: v.version })
        .await
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn scalar(db: &Db, sql: &str) -> i64 {
        sqlx::query(sql).fetch_one(&db.pool).await.unwrap().try_get::<i64, _>("n").unwrap()
    }

    #[tokio::test]
    async fn loads_the_demo_company_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.db");
        let db = Db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        db.migrate().await.unwrap();

        let started = std::time::Instant::now();
        let made = load(&db, "kam-demo").await.unwrap();
        eprintln!("demo loaded in {:?}", started.elapsed());
        let names: Vec<&str> = made.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, USERS.iter().map(|u| u.username).collect::<Vec<_>>());

        assert!(scalar(&db, "SELECT COUNT(*) AS n FROM accounts").await >= 200);
        // Opportunities in every stage of the funnel, each with its path in the history.
        assert_eq!(scalar(&db, "SELECT COUNT(DISTINCT stage) AS n FROM opportunities").await, 7);
        // One contact erased at their request: blank, named nowhere, its visit kept.
        assert_eq!(
            scalar(&db, "SELECT COUNT(*) AS n FROM contacts WHERE erased_at IS NOT NULL AND phone IS NULL").await,
            1
        );
        assert_eq!(
            scalar(
                &db,
                "SELECT COUNT(*) AS n FROM activities WHERE summary = '与—交接采购工作；—下月离职，新任科长待定'"
            )
            .await,
            1
        );
        assert_eq!(
            scalar(
                &db,
                "SELECT COUNT(*) AS n FROM audit_log WHERE before_json LIKE '%赵文涛%' OR after_json LIKE '%赵文涛%'"
            )
            .await,
            0
        );
        assert_eq!(
            scalar(&db, "SELECT COUNT(*) AS n FROM opportunities o WHERE NOT EXISTS (SELECT 1 FROM opportunity_history h WHERE h.opportunity_id = o.id AND h.stage = o.stage)").await,
            0
        );
        // Won ones carry what was booked; lost ones the reason and the winner.
        assert_eq!(
            scalar(&db, "SELECT COUNT(*) AS n FROM opportunities WHERE (stage = 'won' AND (booked_amount IS NULL OR booked_on IS NULL)) OR (stage = 'lost' AND (lost_reason IS NULL OR lost_to IS NULL))").await,
            0
        );

        let codes = sqlx::query("SELECT credit_code FROM accounts").fetch_all(&db.pool).await.unwrap();
        for r in &codes {
            let code: Option<String> = r.try_get("credit_code").unwrap();
            let code = code.expect("every demo account has a credit code");
            assert!(CreditCode::parse(&code).is_ok(), "{code}");
        }

        let rad: HashSet<String> = sqlx::query("SELECT DISTINCT rad_class FROM accounts")
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .iter()
            .filter_map(|r| r.try_get::<Option<String>, _>("rad_class").unwrap())
            .collect();
        for class in crate::domain::account::RAD_CLASSES {
            assert!(rad.contains(class), "no account in {class}");
        }

        let roles: HashSet<String> = sqlx::query("SELECT DISTINCT role FROM users")
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>("role").unwrap())
            .collect();
        for role in Role::ALL {
            assert!(roles.contains(role.code()), "no user with role {role}");
        }

        let owned = "SELECT COUNT(*) AS n FROM accounts a JOIN users u ON u.id = a.owner_id WHERE u.username = ";
        assert!(scalar(&db, &format!("{owned}'rep'")).await >= 15);
        assert!(scalar(&db, &format!("{owned}'rep2'")).await >= 10);
        for rep in ["rep3", "rep4", "rep5", "rep6", "rep7", "rep8", "rep9"] {
            assert!(scalar(&db, &format!("{owned}'{rep}'")).await > 0, "{rep} owns nothing");
        }

        let few = "SELECT COUNT(*) AS n FROM accounts a WHERE (SELECT COUNT(*) FROM contacts c WHERE c.account_id = a.id) < 3";
        assert_eq!(scalar(&db, few).await, 0);
        let flat = "SELECT COUNT(*) AS n FROM accounts a WHERE NOT EXISTS \
                    (SELECT 1 FROM contacts c WHERE c.account_id = a.id AND c.reports_to IS NOT NULL)";
        assert_eq!(scalar(&db, flat).await, 0);

        let special = sqlx::query(
            "SELECT a.credit_grade, a.credit_limit, u.username FROM accounts a JOIN users u ON u.id = a.owner_id WHERE a.name = $1",
        )
        .bind(SPECIAL_ACCOUNT)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(special.try_get::<String, _>("username").unwrap(), "rep");
        assert_eq!(special.try_get::<Option<String>, _>("credit_grade").unwrap().as_deref(), Some("yellow"));
        assert!(special.try_get::<Option<i64>, _>("credit_limit").unwrap().is_some());

        let teams = scalar(&db, "SELECT COUNT(*) AS n FROM account_access WHERE via = 'team'").await;
        assert!((15..=25).contains(&teams), "{teams} team rows");
        assert_eq!(scalar(&db, "SELECT COUNT(DISTINCT industry) AS n FROM accounts").await, 8);
        assert_eq!(scalar(&db, "SELECT COUNT(DISTINCT branch_id) AS n FROM accounts").await, 8);

        // Visits and calls: every salesperson in each of the last three weeks, the derived
        // columns by the app's rules, some effective with an opportunity of the account, planned
        // ones next week, contacts met, a submitted plan for this week, an overdue follow-up.
        for (rule, n) in crate::generate::dataset::activity_rule_violations(&db).await {
            assert_eq!(n, 0, "{rule}");
        }
        let this_week = act::monday(act::local_day(Utc::now(), chrono_tz::Asia::Shanghai));
        for u in USERS.iter().filter(|u| u.sales_type.is_some()) {
            for w in 1..=3 {
                let week = this_week - Duration::days(7 * w);
                let n = scalar(
                    &db,
                    &format!(
                        "SELECT COUNT(*) AS n FROM activities v JOIN users u ON u.id = v.owner_id \
                         WHERE u.username = '{}' AND v.week = '{week}' AND v.status = 'done'",
                        u.username
                    ),
                )
                .await;
                assert!(n >= 5, "{} has {n} activities in the week of {week}", u.username);
            }
        }
        let effective = "SELECT COUNT(*) AS n FROM activities WHERE effective = 1";
        assert!(scalar(&db, &format!("{effective} AND opportunity_id IS NOT NULL")).await >= 20);
        assert!(scalar(&db, &format!("{effective} AND outcome = 'problem_solved'")).await >= 10);
        let next_week = this_week + Duration::days(7);
        assert!(
            scalar(
                &db,
                &format!(
                    "SELECT COUNT(*) AS n FROM activities WHERE status = 'planned' AND week = '{next_week}' \
                     AND objective IS NOT NULL AND place IS NOT NULL AND materials IS NOT NULL"
                )
            )
            .await
                >= 5
        );
        assert!(scalar(&db, "SELECT COUNT(*) AS n FROM activity_contacts WHERE attitude IS NOT NULL").await >= 10);
        assert!(
            scalar(
                &db,
                "SELECT COUNT(*) AS n FROM activities WHERE kind IN ('ob_call', 'ib_call') AND status = 'done'"
            )
            .await
                >= 100
        );
        assert_eq!(
            scalar(
                &db,
                &format!(
                    "SELECT COUNT(*) AS n FROM visit_plans p JOIN users u ON u.id = p.owner_id \
                     WHERE u.username = 'rep' AND p.week = '{this_week}' AND p.status = 'submitted'"
                )
            )
            .await,
            1
        );
        let caller = |name: &'static str| {
            let db = db.clone();
            async move {
                let id = scalar(&db, &format!("SELECT id AS n FROM users WHERE username = '{name}'")).await;
                crate::app::people::auth::load_caller(&db, id).await.unwrap().unwrap()
            }
        };
        let rep = caller("rep").await;
        let open = crate::app::visits::activities::follow_ups(&db, &rep, None).await.unwrap();
        assert!(open.iter().any(|f| f.overdue), "rep has an overdue follow-up: {open:?}");
        // The manager's weekly statistics show their team's visits, and rep met the target.
        let last_week = (this_week - Duration::days(7)).to_string();
        let stats =
            crate::app::visits::activities::stats(&db, &caller("manager").await, Some(&last_week)).await.unwrap();
        let row = |u: &str| stats.people.iter().find(|p| p.username == u).unwrap();
        assert!(row("rep").met, "rep: {} effective", row("rep").effective);
        assert!(row("rep2").effective > 0 && row("sr").calls > 30);
        let again = load(&db, "kam-demo").await;
        assert!(again.is_err(), "a second load must refuse");
        assert_eq!(scalar(&db, "SELECT COUNT(*) AS n FROM users").await, USERS.len() as i64);
        // A screening waits for the KA director past its deadline; the scheduler escalates it
        // once, to the director's manager, and tells them.
        let app = crate::app::App { db: db.clone(), settings: crate::app::Settings::default() };
        assert_eq!(
            scalar(&db, "SELECT COUNT(*) AS n FROM approvals WHERE state = 'pending' AND flow = 'ka_screening'").await,
            1
        );
        // Tenders: one waiting for its bid exception, one won; a negotiation escalation waits.
        assert_eq!(scalar(&db, "SELECT COUNT(*) AS n FROM bids WHERE exception_state = 'pending'").await, 1);
        assert_eq!(scalar(&db, "SELECT COUNT(*) AS n FROM bids WHERE result = 'won'").await, 1);
        assert_eq!(scalar(&db, "SELECT COUNT(*) AS n FROM negotiation_rounds WHERE outcome = 'pending'").await, 1);
        // Quotes at every stage, one waiting for the director (the manager approved it).
        for st in ["draft", "pending", "approved", "sent", "accepted", "lost", "expired"] {
            let n = scalar(&db, &format!("SELECT COUNT(*) AS n FROM quotes WHERE state = '{st}'")).await;
            assert!(n >= 1, "a demo quote {st}");
        }
        assert_eq!(
            scalar(
                &db,
                "SELECT COUNT(*) AS n FROM approval_steps s JOIN approvals a ON a.id = s.approval_id \
                         WHERE a.flow = 'discount_exception' AND s.state = 'open' AND s.role = 'ka_director'"
            )
            .await,
            1
        );
        // Orders: one signed off, one waiting for the director, one cancelled.
        for st in ["signed", "pending", "cancelled"] {
            let n = scalar(&db, &format!("SELECT COUNT(*) AS n FROM orders WHERE state = '{st}'")).await;
            assert!(n >= 1, "a demo order {st}");
        }
        assert_eq!(
            scalar(
                &db,
                "SELECT COUNT(*) AS n FROM approval_steps s JOIN approvals a ON a.id = s.approval_id \
                         WHERE a.flow = 'order_signoff' AND s.state = 'open' AND s.role = 'ka_director'"
            )
            .await,
            1
        );
        let (_, escalated, _) = app.scheduler_pass("demo-test", chrono::Utc::now()).await.unwrap();
        assert_eq!(escalated, 1);
        let (_, again, _) = app.scheduler_pass("demo-test", chrono::Utc::now()).await.unwrap();
        assert_eq!(again, 0);
        assert_eq!(
            scalar(&db, "SELECT COUNT(*) AS n FROM approval_steps s JOIN users u ON u.id = s.escalated_to WHERE u.username = 'sales.manager'").await,
            1
        );
    }
}
