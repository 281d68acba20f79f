//! The spreadsheet of 60,000 accounts that the import benchmarks load: a GBK CSV as Excel on
//! Chinese Windows saves it, and an XLSX with amounts as numbers. Shared by `import_bench` and
//! `load` (included with `#[path]`).
use std::io::Write;

use anyhow::Context;
use kam::domain::credit_code::CreditCode;

const REGIONS: &[(&str, &[&str])] = &[
    ("NORTH", &["rep", "rep2", "rep3"]),
    ("EAST", &["rep4", "rep5", "rep6"]),
    ("SOUTH", &["rep7", "rep8"]),
    ("WEST", &["rep9"]),
];
const INDUSTRIES: &[&str] = &["政府", "军工", "企业", "教育", "金融", "电力", "电信", "其他"];
const WORDS: &[&str] =
    &["华信", "金陵", "长江", "星河", "东方", "恒通", "中科", "远航", "博远", "天元", "瑞丰", "宏达"];
const HEADER: &[&str] = &[
    "客户名称",
    "统一社会信用代码",
    "行业",
    "客户级别",
    "大区",
    "客户经理",
    "地址",
    "年度采购量(元)",
    "近12个月销售额(元)",
    "备注",
];

/// Row `i` of the generated file: a unique name and a valid credit code.
fn row(i: usize) -> anyhow::Result<Vec<String>> {
    let (region, reps) = REGIONS[i % REGIONS.len()];
    let base = format!("91110000{:09}", i + 1_000);
    let code = CreditCode::complete(&base).with_context(|| format!("credit code {base}"))?;
    let bp = 100_000 + (i as i64 * 7_919) % 9_000_000;
    Ok(vec![
        format!("{}{}科技{}号有限公司", WORDS[i % WORDS.len()], WORDS[(i / 12) % WORDS.len()], i + 1),
        code.as_str().to_string(),
        INDUSTRIES[i % INDUSTRIES.len()].to_string(),
        ["L1", "L2", "L3", "L3"][i % 4].to_string(),
        region.to_string(),
        reps[i % reps.len()].to_string(),
        format!("{}路{}号", WORDS[(i / 7) % WORDS.len()], i % 500 + 1),
        format!("{bp}.00"),
        format!("{}", bp / 3),
        "批量导入".to_string(),
    ])
}

pub fn write_csv_gbk(path: &std::path::Path, n: usize) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut line = |cells: &[String]| -> anyhow::Result<()> {
        let text = cells.join(",") + "\r\n";
        let (gbk, _, bad) = encoding_rs::GBK.encode(&text);
        anyhow::ensure!(!bad, "not encodable in GBK: {text}");
        f.write_all(&gbk)?;
        Ok(())
    };
    line(&HEADER.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    for i in 0..n {
        line(&row(i)?)?;
    }
    f.flush()?;
    Ok(())
}

pub fn write_xlsx(path: &std::path::Path, n: usize) -> anyhow::Result<()> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h)?;
    }
    for i in 0..n {
        for (c, v) in row(i)?.iter().enumerate() {
            // Amounts as numbers, the way a spreadsheet holds them.
            if c == 7 || c == 8 {
                ws.write_number(i as u32 + 1, c as u16, v.parse::<f64>()?)?;
            } else {
                ws.write_string(i as u32 + 1, c as u16, v)?;
            }
        }
    }
    wb.save(path)?;
    Ok(())
}

/// Contacts for the accounts of [`write_csv_gbk`]'s first `n / 2` rows, two each (UTF-8 CSV):
/// named by the account's name and credit code; one in ten reports to the account's other
/// contact, named in the row before.
#[allow(dead_code)] // `load` imports accounts only
pub fn write_contacts_csv(path: &std::path::Path, n: usize) -> anyhow::Result<()> {
    const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
    const GIVEN: &[&str] = &["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳"];
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "客户名称,统一社会信用代码,姓名,部门,职务,直接上级,决策角色,态度,关系强度,电话,邮箱")?;
    let name = |j: usize| format!("{}{}{}", SURNAMES[j % 10], GIVEN[(j / 10) % 12], j);
    for j in 0..n {
        let account = row(j / 2)?;
        let boss = if j % 20 == 1 { name(j - 1) } else { String::new() };
        writeln!(
            f,
            "{},{},{},采购部,{},{boss},{},{},{},138{:08},c{j}@example.cn",
            account[0],
            account[1],
            name(j),
            ["采购经理", "总工程师", "副总经理", "信息中心主任"][j % 4],
            ["决策者", "影响者", "使用者", "把关者"][j % 4],
            ["支持", "中立", "反对"][j % 3],
            j % 5 + 1,
            j
        )?;
    }
    f.flush()?;
    Ok(())
}
