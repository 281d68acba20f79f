//! Hostile spreadsheets, for the tests of the import's limits and for the reliability battery:
//! files small on disk that a reader trusting them would spend its memory on. Each is made in
//! a moment and without holding its uncompressed size: a piece of XML repeated many times is
//! compressed once and its compressed bytes repeated (each piece a run of complete deflate
//! blocks that refer to nothing before it), and the zip is written by hand.
//!
//! - [`xlsx_many_bad_rows`]: a header (名称, 行业) and `n` rows each refused (an unknown industry);
//!   2,000,000 rows take about 200 KB.
//! - [`xlsx_one_huge_cell`]: one cell of `bytes` characters, in the shared strings table as
//!   Excel keeps text; 400 MB take about 400 KB.
//! - [`xlsx_huge_inline_cell`]: the same cell written inside the worksheet.
//! - [`xlsx_lying_sizes`]: [`xlsx_one_huge_cell`] whose zip headers say the strings take 4 KB.
//! - [`csv_many_bad_rows`], [`csv_one_huge_cell`]: the same in CSV (as large as they say).
use std::io::Write;

/// The texts the files hold: the header, and a row's name and (unknown) industry.
pub const HEADER: [&str; 2] = ["名称", "行业"];
pub const BAD_NAME: &str = "坏行公司";
pub const BAD_INDUSTRY: &str = "不存在的行业";

/// An XLSX of a header and `n` rows, every one refused for its industry.
pub fn xlsx_many_bad_rows(n: usize) -> Vec<u8> {
    let strings = format!(
        "{XML}<sst xmlns=\"{MAIN}\" count=\"4\" uniqueCount=\"4\"><si><t>{}</t></si><si><t>{}</t></si>\
         <si><t>{BAD_NAME}</t></si><si><t>{BAD_INDUSTRY}</t></si></sst>",
        HEADER[0], HEADER[1]
    );
    const ROW: &str = "<row><c t=\"s\"><v>2</v></c><c t=\"s\"><v>3</v></c></row>";
    let mut sheet = Deflated::default();
    sheet.piece(
        format!("{XML}<worksheet xmlns=\"{MAIN}\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c></row>")
            .as_bytes(),
        1,
    );
    sheet.piece(ROW.repeat(1_000).as_bytes(), n / 1_000);
    sheet.piece(ROW.repeat(n % 1_000).as_bytes(), 1);
    sheet.piece(b"</sheetData></worksheet>", 1);
    workbook(sheet.finish(), Some(Deflated::whole(strings.as_bytes())))
}

/// An XLSX whose second row's name is one shared string of `bytes` letters.
pub fn xlsx_one_huge_cell(bytes: usize) -> Vec<u8> {
    workbook(Deflated::whole(two_rows_sheet().as_bytes()), Some(huge_strings(bytes)))
}

/// The same cell as an inline string inside the worksheet (no shared strings table).
pub fn xlsx_huge_inline_cell(bytes: usize) -> Vec<u8> {
    let mut sheet = Deflated::default();
    sheet.piece(
        format!(
            "{XML}<worksheet xmlns=\"{MAIN}\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>{}</t></is></c></row>\
             <row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>",
            HEADER[0]
        )
        .as_bytes(),
        1,
    );
    letters(&mut sheet, bytes);
    sheet.piece(b"</t></is></c></row></sheetData></worksheet>", 1);
    workbook(sheet.finish(), None)
}

/// [`xlsx_one_huge_cell`] whose zip headers (local and central) say the shared strings table
/// is 4,096 bytes uncompressed.
pub fn xlsx_lying_sizes(bytes: usize) -> Vec<u8> {
    let mut strings = huge_strings(bytes);
    strings.size = 4_096;
    workbook(Deflated::whole(two_rows_sheet().as_bytes()), Some(strings))
}

/// A CSV (UTF-8) of a header and `n` rows, every one refused for its industry.
pub fn csv_many_bad_rows(n: usize) -> Vec<u8> {
    let row = format!("{BAD_NAME},{BAD_INDUSTRY}\r\n");
    let mut out = format!("{},{}\r\n", HEADER[0], HEADER[1]).into_bytes();
    out.reserve(row.len() * n);
    for _ in 0..n {
        out.extend_from_slice(row.as_bytes());
    }
    out
}

/// A CSV whose second row's name is `bytes` letters (quoted), followed by a good row.
pub fn csv_one_huge_cell(bytes: usize) -> Vec<u8> {
    let mut out = format!("{},{}\r\n\"", HEADER[0], HEADER[1]).into_bytes();
    out.resize(out.len() + bytes, b'A');
    out.extend_from_slice("\",企业\r\n正常的公司,企业\r\n".as_bytes());
    out
}

const XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>";
const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

fn two_rows_sheet() -> String {
    format!(
        "{XML}<worksheet xmlns=\"{MAIN}\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row>\
         <row r=\"2\"><c r=\"A2\" t=\"s\"><v>1</v></c></row></sheetData></worksheet>"
    )
}

/// A shared strings table of the header and one string of `bytes` letters.
fn huge_strings(bytes: usize) -> Deflated {
    let mut s = Deflated::default();
    s.piece(
        format!("{XML}<sst xmlns=\"{MAIN}\" count=\"2\" uniqueCount=\"2\"><si><t>{}</t></si><si><t>", HEADER[0])
            .as_bytes(),
        1,
    );
    letters(&mut s, bytes);
    s.piece(b"</t></si></sst>", 1);
    s.finish()
}

fn letters(d: &mut Deflated, bytes: usize) {
    const MB: usize = 1 << 20;
    d.piece(&vec![b'A'; MB], bytes / MB);
    d.piece(&vec![b'A'; bytes % MB], 1);
}

/// A deflate stream built from pieces, with the size and CRC-32 of what it holds.
#[derive(Default)]
struct Deflated {
    raw: Vec<u8>,
    size: u64,
    crc: crc32fast::Hasher,
}

impl Deflated {
    fn whole(bytes: &[u8]) -> Deflated {
        let mut d = Deflated::default();
        d.piece(bytes, 1);
        d.finish()
    }

    /// Appends `bytes` `times` times: compressed once, on its own, ending on a byte boundary.
    fn piece(&mut self, bytes: &[u8], times: usize) {
        if bytes.is_empty() || times == 0 {
            return;
        }
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).expect("compressing into memory");
        // A sync flush: complete blocks, then an empty stored block (byte-aligned).
        e.flush().expect("compressing into memory");
        let packed = std::mem::take(e.get_mut());
        let mut crc = crc32fast::Hasher::new();
        crc.update(bytes);
        for _ in 0..times {
            self.raw.extend_from_slice(&packed);
            self.crc.combine(&crc);
        }
        self.size += (bytes.len() * times) as u64;
    }

    /// Ends the stream with an empty final block.
    fn finish(mut self) -> Deflated {
        self.raw.extend_from_slice(&[0x03, 0x00]);
        self
    }
}

/// An XLSX of one worksheet (and a shared strings table when given).
fn workbook(sheet: Deflated, strings: Option<Deflated>) -> Vec<u8> {
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let types = format!(
        "{XML}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
         <Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>\
         <Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/>\
         </Types>"
    );
    let package = format!(
        "{XML}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" Type=\"{rel}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
    );
    let book = format!(
        "{XML}<workbook xmlns=\"{MAIN}\" xmlns:r=\"{rel}\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
    );
    let mut book_rels = format!(
        "{XML}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" Type=\"{rel}/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
    );
    if strings.is_some() {
        book_rels.push_str(&format!(
            "<Relationship Id=\"rId2\" Type=\"{rel}/sharedStrings\" Target=\"sharedStrings.xml\"/>"
        ));
    }
    book_rels.push_str("</Relationships>");
    let mut parts = vec![
        ("[Content_Types].xml", Deflated::whole(types.as_bytes())),
        ("_rels/.rels", Deflated::whole(package.as_bytes())),
        ("xl/workbook.xml", Deflated::whole(book.as_bytes())),
        ("xl/_rels/workbook.xml.rels", Deflated::whole(book_rels.as_bytes())),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    if let Some(s) = strings {
        parts.push(("xl/sharedStrings.xml", s));
    }
    zip(parts)
}

/// A zip of deflated entries (no zip64: every size under 4 GiB).
fn zip(parts: Vec<(&str, Deflated)>) -> Vec<u8> {
    fn u16le(out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    fn u32le(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    // Fields shared by the local and the central header, from "version needed" on.
    fn common(out: &mut Vec<u8>, d: &Deflated, name: &str) {
        u16le(out, 20); // version needed: deflate
        u16le(out, 0x0800); // flags: the name is UTF-8
        u16le(out, 8); // deflate
        u16le(out, 0); // time
        u16le(out, 0x21); // date: 1980-01-01
        u32le(out, d.crc.clone().finalize());
        u32le(out, u32::try_from(d.raw.len()).expect("under 4 GiB compressed"));
        u32le(out, u32::try_from(d.size).expect("under 4 GiB"));
        u16le(out, name.len() as u16);
        u16le(out, 0); // extra field
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, d) in &parts {
        let offset = out.len() as u32;
        u32le(&mut out, 0x0403_4b50);
        common(&mut out, d, name);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&d.raw);
        u32le(&mut central, 0x0201_4b50);
        u16le(&mut central, 20); // made by
        common(&mut central, d, name);
        u16le(&mut central, 0); // comment
        u16le(&mut central, 0); // disk
        u16le(&mut central, 0); // internal attributes
        u32le(&mut central, 0); // external attributes
        u32le(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let at = out.len() as u32;
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, parts.len() as u16);
    u16le(&mut out, parts.len() as u16);
    u32le(&mut out, central.len() as u32);
    u32le(&mut out, at);
    u16le(&mut out, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn entry(file: &[u8], name: &str, max: usize) -> Vec<u8> {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(file)).expect("a zip");
        let mut out = vec![];
        z.by_name(name).expect("entry").take(max as u64).read_to_end(&mut out).expect("inflates");
        out
    }

    #[test]
    fn the_files_are_small_and_hold_what_they_say() {
        let many = xlsx_many_bad_rows(2_500);
        let sheet = String::from_utf8(entry(&many, "xl/worksheets/sheet1.xml", 1 << 24)).expect("utf-8");
        assert_eq!(sheet.matches("<row").count(), 2_501);
        assert!(sheet.ends_with("</sheetData></worksheet>"));
        let huge = xlsx_one_huge_cell(5 << 20);
        assert!(huge.len() < 100_000, "{} bytes", huge.len());
        let longest = |xml: &[u8]| xml.split(|b| *b != b'A').map(<[u8]>::len).max().unwrap_or(0);
        assert_eq!(longest(&entry(&huge, "xl/sharedStrings.xml", 1 << 24)), 5 << 20);
        assert_eq!(longest(&entry(&xlsx_huge_inline_cell(3 << 20), "xl/worksheets/sheet1.xml", 1 << 24)), 3 << 20);
        let csv = String::from_utf8(csv_many_bad_rows(3)).expect("utf-8");
        assert_eq!(csv.lines().count(), 4);
    }

    #[test]
    fn a_lying_header_is_caught_by_the_zip_reader() {
        let lying = xlsx_lying_sizes(1 << 20);
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(&lying)).expect("a zip");
        let e = z.by_name("xl/sharedStrings.xml").expect("entry");
        assert_eq!(e.size(), 4_096, "it says");
        let mut out = vec![];
        assert!(e.take(1 << 22).read_to_end(&mut out).is_err(), "read past its declared size");
    }
}
