//! Hostile XLSX files for the battery (issue 19): tiny files that unpack to hundreds of
//! megabytes. Written without a compressor: the worksheet is a prefix, one unit repeated `n`
//! times and a suffix, so its deflate stream is the prefix and the unit as literals followed by
//! back-references of 258 bytes (a block whose only codes are "length 258" and the unit's
//! distance, one bit each) — a few hundred kilobytes however large the sheet. The zip entry
//! states the true uncompressed size and CRC-32 (computed by combining the unit's CRC, not by
//! reading 400 MB). Included with `#[path]`.

/// An XLSX whose one sheet has the header 客户名称, 行业 and `rows` identical refused rows
/// (an unknown industry): 2,000,000 rows make about 220 MB of sheet XML in about 0.75 MB.
pub fn xlsx_many_bad_rows(rows: u64) -> Vec<u8> {
    let prefix = format!("{SHEET_START}{HEADER_ROW}");
    let unit = format!("<row>{}{}</row>", inline("坏行"), inline("不是行业"));
    xlsx(Part { prefix: prefix.as_bytes(), unit: unit.as_bytes(), n: rows, suffix: SHEET_END.as_bytes() }, None)
}

/// An XLSX whose one data row holds a name of `bytes` letters, written in the cell (an inline
/// string; 400 MB in about 0.4 MB).
pub fn xlsx_one_huge_cell(bytes: u64) -> Vec<u8> {
    let prefix = format!("{SHEET_START}{HEADER_ROW}<row><c t=\"inlineStr\"><is><t>");
    let suffix = format!("</t></is></c>{}</row>{SHEET_END}", inline("enterprise"));
    xlsx(Part { prefix: prefix.as_bytes(), unit: b"A", n: bytes, suffix: suffix.as_bytes() }, None)
}

/// The same name as Excel keeps text: one entry of the shared strings table, which a reader
/// loads before any row.
pub fn xlsx_one_huge_shared_string(bytes: u64) -> Vec<u8> {
    let strings_start = format!(
        "{XML_DECL}<sst xmlns=\"{MAIN_NS}\" count=\"4\" uniqueCount=\"4\"><si><t>客户名称</t></si><si><t>行业</t></si>\
         <si><t>enterprise</t></si><si><t>"
    );
    let strings_end = "</t></si></sst>";
    let sheet = format!(
        "{SHEET_START}<row><c t=\"s\"><v>0</v></c><c t=\"s\"><v>1</v></c></row>\
         <row><c t=\"s\"><v>3</v></c><c t=\"s\"><v>2</v></c></row>{SHEET_END}"
    );
    xlsx(
        Part { prefix: sheet.as_bytes(), unit: b" ", n: 0, suffix: b"" },
        Some(Part { prefix: strings_start.as_bytes(), unit: b"A", n: bytes, suffix: strings_end.as_bytes() }),
    )
}

/// The uncompressed size of a file made here: its entries' sizes as the zip states them.
pub fn unpacked_size(file: &[u8]) -> u64 {
    let mut total = 0;
    let mut at = 0;
    while let Some(i) = file[at..].windows(4).position(|w| w == [0x50, 0x4b, 0x01, 0x02]) {
        let cd = at + i;
        total += u32::from_le_bytes([file[cd + 24], file[cd + 25], file[cd + 26], file[cd + 27]]) as u64;
        at = cd + 4;
    }
    total
}

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const SHEET_START: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet \
    xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>";
const SHEET_END: &str = "</sheetData></worksheet>";
const HEADER_ROW: &str =
    "<row><c t=\"inlineStr\"><is><t>客户名称</t></is></c><c t=\"inlineStr\"><is><t>行业</t></is></c></row>";

fn inline(text: &str) -> String {
    format!("<c t=\"inlineStr\"><is><t>{text}</t></is></c>")
}

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types \
    xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" \
    ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" \
    ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" \
    ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override \
    PartName=\"/xl/worksheets/sheet1.xml\" \
    ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/><Override \
    PartName=\"/xl/sharedStrings.xml\" \
    ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/></Types>";
const RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships \
    xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" \
    Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" \
    Target=\"xl/workbook.xml\"/></Relationships>";
const WORKBOOK: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<workbook \
    xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
    xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet \
    name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
const WORKBOOK_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships \
    xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" \
    Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" \
    Target=\"worksheets/sheet1.xml\"/></Relationships>";
const WORKBOOK_RELS_STRINGS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships \
    xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" \
    Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" \
    Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" \
    Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" \
    Target=\"sharedStrings.xml\"/></Relationships>";

/// A part of the workbook: `prefix`, `unit` `n` times, `suffix`.
struct Part<'a> {
    prefix: &'a [u8],
    unit: &'a [u8],
    n: u64,
    suffix: &'a [u8],
}

/// The workbook: the fixed parts stored, the sheet (and the shared strings, if any) deflated.
fn xlsx(sheet: Part, strings: Option<Part>) -> Vec<u8> {
    let mut z = Zip::default();
    let rels = if strings.is_some() { WORKBOOK_RELS_STRINGS } else { WORKBOOK_RELS };
    for (name, text) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", RELS),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", rels),
    ] {
        z.add(name, 0, crc_update(0, text.as_bytes()), text.len() as u64, text.as_bytes());
    }
    if let Some(p) = strings {
        z.add_part("xl/sharedStrings.xml", &p);
    }
    z.add_part("xl/worksheets/sheet1.xml", &sheet);
    z.finish()
}

#[derive(Default)]
struct Zip {
    out: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
}

impl Zip {
    fn add(&mut self, name: &str, method: u16, crc: u32, size: u64, data: &[u8]) {
        let size = u32::try_from(size).expect("an entry under 4 GB");
        let offset = self.out.len() as u32;
        let common = |v: &mut Vec<u8>| {
            v.extend(20u16.to_le_bytes()); // version needed
            v.extend(0u16.to_le_bytes()); // flags
            v.extend(method.to_le_bytes());
            v.extend(0u16.to_le_bytes()); // time
            v.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
            v.extend(crc.to_le_bytes());
            v.extend((data.len() as u32).to_le_bytes());
            v.extend(size.to_le_bytes());
            v.extend((name.len() as u16).to_le_bytes());
            v.extend(0u16.to_le_bytes()); // extra field
        };
        self.out.extend(0x0403_4b50u32.to_le_bytes());
        common(&mut self.out);
        self.out.extend(name.as_bytes());
        self.out.extend(data);
        self.central.extend(0x0201_4b50u32.to_le_bytes());
        self.central.extend(20u16.to_le_bytes()); // version made by
        common(&mut self.central);
        self.central.extend([0u8; 10]); // comment length, disk, internal and external attributes
        self.central.extend(offset.to_le_bytes());
        self.central.extend(name.as_bytes());
        self.entries += 1;
    }

    /// A part deflated, with its true size and CRC.
    fn add_part(&mut self, name: &str, p: &Part) {
        let size = p.prefix.len() as u64 + p.unit.len() as u64 * p.n + p.suffix.len() as u64;
        let crc = crc_update(crc_repeated(crc_update(0, p.prefix), p.unit, p.n), p.suffix);
        self.add(name, 8, crc, size, &deflate_repeated(p.prefix, p.unit, p.n, p.suffix));
    }

    fn finish(mut self) -> Vec<u8> {
        let at = self.out.len() as u32;
        self.out.extend(&self.central);
        self.out.extend(0x0605_4b50u32.to_le_bytes());
        self.out.extend([0u8; 4]); // this disk, the directory's disk
        self.out.extend(self.entries.to_le_bytes());
        self.out.extend(self.entries.to_le_bytes());
        self.out.extend((self.central.len() as u32).to_le_bytes());
        self.out.extend(at.to_le_bytes());
        self.out.extend(0u16.to_le_bytes());
        self.out
    }
}

/// Deflate's bit stream: values least significant bit first, Huffman codes most significant first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, v: u32, n: u32) {
        self.acc |= (v as u64) << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    fn code(&mut self, code: u32, len: u32) {
        let rev = (0..len).fold(0, |r, i| r | (((code >> i) & 1) << (len - 1 - i)));
        self.put(rev, len);
    }
    /// A literal or end-of-block in the fixed Huffman code.
    fn fixed(&mut self, sym: u32) {
        match sym {
            0..=143 => self.code(0x30 + sym, 8),
            144..=255 => self.code(0x190 + sym - 144, 9),
            256..=279 => self.code(sym - 256, 7),
            _ => self.code(0xc0 + sym - 280, 8),
        }
    }
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

const DIST_BASE: [u32; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
];

/// `prefix unit×n suffix` as a raw deflate stream (three blocks; see the module's comment).
fn deflate_repeated(prefix: &[u8], unit: &[u8], n: u64, suffix: &[u8]) -> Vec<u8> {
    assert!(!unit.is_empty() && unit.len() <= 32_768);
    let mut b = Bits::default();
    if n == 0 {
        // One fixed Huffman block, final: the prefix and the suffix as literals.
        b.put(1, 1);
        b.put(1, 2);
        for &x in prefix.iter().chain(suffix) {
            b.fixed(x as u32);
        }
        b.fixed(256);
        return b.finish();
    }
    // 1. Fixed Huffman, not final: the prefix and the unit once, as literals.
    b.put(0, 1);
    b.put(1, 2);
    for &x in prefix.iter().chain(unit) {
        b.fixed(x as u32);
    }
    b.fixed(256);
    // 2. Dynamic Huffman, not final: only matches of 258 bytes at the unit's distance.
    let len = unit.len() as u64;
    let rest = len * (n - 1);
    let matches = rest / 258;
    let tail = rest % 258;
    if matches > 0 {
        let d = len as u32;
        let dc = DIST_BASE.iter().rposition(|&base| base <= d).unwrap_or(0);
        let extra = if dc < 4 { 0 } else { dc as u32 / 2 - 1 };
        let other = if dc == 0 { 1 } else { 0 };
        let ndist = dc.max(other) + 1;
        b.put(0, 1);
        b.put(2, 2);
        b.put(286 - 257, 5);
        b.put(ndist as u32 - 1, 5);
        // The code-length code: symbols 0, 1, 17 and 18, two bits each (in the order deflate
        // sends their lengths; 18 entries reach symbol 1).
        const ORDER: [u32; 18] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
        b.put(18 - 4, 4);
        for s in ORDER {
            b.put(if matches!(s, 0 | 1 | 17 | 18) { 2 } else { 0 }, 3);
        }
        let mut litlen = vec![0u8; 286];
        litlen[256] = 1;
        litlen[285] = 1;
        let mut dist = vec![0u8; ndist];
        dist[dc] = 1;
        dist[other] = 1;
        code_lengths(&mut b, &litlen);
        code_lengths(&mut b, &dist);
        // Canonical codes: 256 → 0, 285 → 1; the smaller distance symbol → 0.
        let dbit = u32::from(dc > other);
        let dval = d - DIST_BASE[dc];
        for _ in 0..matches {
            b.code(1, 1);
            b.code(dbit, 1);
            b.put(dval, extra);
        }
        b.code(0, 1);
    }
    // 3. Fixed Huffman, final: what is left of the repetition, and the suffix, as literals.
    b.put(1, 1);
    b.put(1, 2);
    let total = len * n;
    for i in total - tail..total {
        b.fixed(unit[(i % len) as usize] as u32);
    }
    for &x in suffix {
        b.fixed(x as u32);
    }
    b.fixed(256);
    b.finish()
}

/// Code lengths (each 0 or 1) in the code-length code of [`deflate_repeated`].
fn code_lengths(b: &mut Bits, lengths: &[u8]) {
    let sym = |b: &mut Bits, s: u32| b.code(if s <= 1 { s } else { s - 15 }, 2);
    let mut i = 0;
    while i < lengths.len() {
        if lengths[i] != 0 {
            sym(b, 1);
            i += 1;
            continue;
        }
        let mut run = 1;
        while i + run < lengths.len() && lengths[i + run] == 0 && run < 138 {
            run += 1;
        }
        if run >= 11 {
            sym(b, 18);
            b.put(run as u32 - 11, 7);
        } else if run >= 3 {
            sym(b, 17);
            b.put(run as u32 - 3, 3);
        } else {
            for _ in 0..run {
                sym(b, 0);
            }
        }
        i += run;
    }
}

fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    for (i, e) in t.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *e = c;
    }
    t
}

/// CRC-32 (zip's) of what `crc` covered followed by `data`.
fn crc_update(crc: u32, data: &[u8]) -> u32 {
    let t = crc_table();
    let mut c = !crc;
    for &x in data {
        c = t[((c ^ x as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

fn gf2_times(mat: &[u32; 32], mut vec: u32) -> u32 {
    let mut sum = 0;
    let mut i = 0;
    while vec != 0 {
        if vec & 1 != 0 {
            sum ^= mat[i];
        }
        vec >>= 1;
        i += 1;
    }
    sum
}

fn gf2_square(mat: &[u32; 32]) -> [u32; 32] {
    let mut sq = [0u32; 32];
    for (n, e) in sq.iter_mut().enumerate() {
        *e = gf2_times(mat, mat[n]);
    }
    sq
}

/// The CRC of A followed by B from their CRCs and B's length (zlib's `crc32_combine`).
fn crc_combine(mut crc1: u32, crc2: u32, mut len2: u64) -> u32 {
    if len2 == 0 {
        return crc1;
    }
    let mut odd = [0u32; 32];
    odd[0] = 0xedb8_8320;
    for (n, e) in odd.iter_mut().enumerate().skip(1) {
        *e = 1 << (n - 1);
    }
    let mut even = gf2_square(&odd);
    odd = gf2_square(&even);
    loop {
        even = gf2_square(&odd);
        if len2 & 1 != 0 {
            crc1 = gf2_times(&even, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
        odd = gf2_square(&even);
        if len2 & 1 != 0 {
            crc1 = gf2_times(&odd, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
    }
    crc1 ^ crc2
}

/// The CRC of what `crc` covered followed by `unit` `n` times.
fn crc_repeated(crc: u32, unit: &[u8], mut n: u64) -> u32 {
    let (mut acc, mut block, mut blen) = (crc, crc_update(0, unit), unit.len() as u64);
    while n > 0 {
        if n & 1 == 1 {
            acc = crc_combine(acc, block, blen);
        }
        block = crc_combine(block, block, blen);
        blen *= 2;
        n >>= 1;
    }
    acc
}
