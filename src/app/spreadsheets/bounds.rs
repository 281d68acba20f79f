//! What one import may read, checked while the file streams, so that no file — however it was
//! made — holds more of the server's memory or time than these limits allow
//! (docs/DOMAIN.md §1.9, the table in README).
//!
//! - Every row: at most [`MAX_COLUMNS`] columns and [`ROW_MAX_BYTES`] of text; a cell is read up
//!   to [`CELL_MAX_CHARS`] characters (Excel's own limit; no field takes as many, so a longer
//!   cell is refused as too long by its field); at most [`MAX_ROWS`] data rows.
//! - CSV: one record may take [`RAW_MAX_BYTES`] in the file ([`CsvGuard`] counts while the csv
//!   crate reads, before it buffers the record).
//! - XLSX ([`check_xlsx`], before calamine opens the file): at most [`XLSX_MAX_PARTS`] zip
//!   entries, each no larger uncompressed than its kind allows (a worksheet
//!   [`XLSX_SHEET_MAX_BYTES`], the shared strings [`XLSX_STRINGS_MAX_BYTES`], anything else
//!   [`XLSX_PART_MAX_BYTES`]) — the zip reader also stops at an entry's declared size, so a
//!   header that lies is an unreadable file. Worksheets, shared strings and styles are then
//!   read through once ([`Scan`]): no cell or other piece of XML over [`RAW_MAX_BYTES`], at most
//!   [`XLSX_MAX_STRINGS`] shared strings, and styles that calamine keeps in a bounded size.
//!   calamine then reads what was checked: it keeps the shared strings and styles and streams
//!   the sheet cell by cell.
use std::io::{self, Read, Seek, SeekFrom};

/// Refused rows an import lists before it stops (`--import-max-errors`, `KAM_IMPORT_MAX_ERRORS`).
pub const MAX_ERRORS: usize = 1_000;
/// Data rows of one file (the header row not counted).
pub const MAX_ROWS: usize = 200_000;
/// Columns of one row.
pub const MAX_COLUMNS: usize = 1_000;
/// Characters of a cell kept when it is read; one more is kept of a longer cell, so that the
/// field it fills refuses it as too long (the longest field, notes, takes 4,000).
pub const CELL_MAX_CHARS: usize = 32_767;
/// Bytes of text of one row, after its cells were cut to [`CELL_MAX_CHARS`].
pub const ROW_MAX_BYTES: usize = 1 << 20;
/// Bytes of one CSV record, or of one XLSX cell (or any other piece of its XML), in the file.
pub const RAW_MAX_BYTES: usize = 16 << 20;
/// Entries of an XLSX (a zip).
pub const XLSX_MAX_PARTS: usize = 10_000;
/// Uncompressed bytes of one worksheet.
pub const XLSX_SHEET_MAX_BYTES: u64 = 512 << 20;
/// Uncompressed bytes of the shared strings table (kept in memory while the sheet is read).
pub const XLSX_STRINGS_MAX_BYTES: u64 = 100 << 20;
/// Strings of the shared strings table.
pub const XLSX_MAX_STRINGS: usize = 2_000_000;
/// Uncompressed bytes of any other part (workbook, styles, relationships, images…).
pub const XLSX_PART_MAX_BYTES: u64 = 16 << 20;
/// What calamine's copy of the styles may take: each cell format (`xf`) keeps its own copy of
/// its font and number format, so the estimate is formats × (a style's own size + the largest
/// font + the largest number format, as written).
const XLSX_STYLES_BUDGET: usize = 64 << 20;
const STYLE_OWN_BYTES: usize = 512;

// ---------------------------------------------------------------------------------------------
// Rows.

/// Counts the rows of a file and bounds each, as they are read: cuts long cells (see
/// [`CELL_MAX_CHARS`]) and drops trailing empty cells; refuses a row of too many columns or
/// too much text, and a file of too many rows. The first row is the header.
#[derive(Default)]
pub(crate) struct Rows {
    seen: usize,
}

impl Rows {
    pub(crate) fn check(&mut self, row: &mut Vec<String>) -> Result<(), &'static str> {
        while row.last().is_some_and(|c| c.is_empty()) {
            row.pop();
        }
        if row.len() > MAX_COLUMNS {
            return Err("too_many_columns");
        }
        let mut bytes = 0;
        for c in row.iter_mut() {
            cut(c);
            bytes += c.len();
        }
        if bytes > ROW_MAX_BYTES {
            return Err("row_too_large");
        }
        self.seen += 1;
        if self.seen > MAX_ROWS + 1 {
            return Err("too_many_rows");
        }
        Ok(())
    }
}

/// A cell's text as kept: at most [`CELL_MAX_CHARS`] + 1 characters.
pub(crate) fn cell(s: &str) -> String {
    match s.char_indices().nth(CELL_MAX_CHARS + 1) {
        Some((at, _)) => s[..at].to_string(),
        None => s.to_string(),
    }
}

fn cut(s: &mut String) {
    // A string of no more bytes than the limit has no more characters either.
    if s.len() > CELL_MAX_CHARS + 1 {
        if let Some((at, _)) = s.char_indices().nth(CELL_MAX_CHARS + 1) {
            s.truncate(at);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CSV.

/// The reader under the csv crate: refuses, as soon as it passes by, a record longer than
/// [`RAW_MAX_BYTES`] (quotes followed: a line break inside quotes belongs to the record), so the
/// csv crate never buffers more than that for one record.
pub(crate) struct CsvGuard<R> {
    inner: R,
    quoted: bool,
    run: usize,
}

/// The error [`CsvGuard`] answers with, found again in the csv crate's error by [`csv_error`].
#[derive(Debug)]
struct RecordTooLarge;

impl std::fmt::Display for RecordTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a CSV record longer than {RAW_MAX_BYTES} bytes")
    }
}

impl std::error::Error for RecordTooLarge {}

impl<R> CsvGuard<R> {
    pub(crate) fn new(inner: R) -> CsvGuard<R> {
        CsvGuard { inner, quoted: false, run: 0 }
    }
}

impl<R: Read> Read for CsvGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            match b {
                b'"' => self.quoted = !self.quoted,
                b'\n' | b'\r' if !self.quoted => {
                    self.run = 0;
                    continue;
                }
                _ => {}
            }
            self.run += 1;
            if self.run > RAW_MAX_BYTES {
                return Err(io::Error::new(io::ErrorKind::InvalidData, RecordTooLarge));
            }
        }
        Ok(n)
    }
}

/// The field code of a CSV reading error: a record over the limit, or an unreadable file.
pub(crate) fn csv_error(e: &csv::Error) -> &'static str {
    match e.kind() {
        csv::ErrorKind::Io(io) if io.get_ref().is_some_and(|x| x.is::<RecordTooLarge>()) => "record_too_large",
        _ => "csv_unreadable",
    }
}

// ---------------------------------------------------------------------------------------------
// XLSX.

/// Checks an XLSX before calamine opens it (see the module doc); leaves the reader at its start.
/// The error is the field code of the `file` field.
pub(crate) fn check_xlsx<R: Read + Seek>(r: &mut R) -> Result<(), &'static str> {
    let res = check_xlsx_at(r);
    r.seek(SeekFrom::Start(0)).map_err(|_| "file_unreadable")?;
    res
}

fn check_xlsx_at<R: Read + Seek>(r: &mut R) -> Result<(), &'static str> {
    // The zip reader keeps every entry of the central directory in memory: count them first,
    // by their signature anywhere in the file (an upper bound, whatever the directory says).
    r.seek(SeekFrom::Start(0)).map_err(|_| "file_unreadable")?;
    if count_signatures(r, b"PK\x01\x02").map_err(|_| "file_unreadable")? > XLSX_MAX_PARTS {
        return Err("xlsx_too_many_parts");
    }
    r.seek(SeekFrom::Start(0)).map_err(|_| "file_unreadable")?;
    let mut zip = zip::ZipArchive::new(&mut *r).map_err(|_| "xlsx_unreadable")?;
    if zip.len() > XLSX_MAX_PARTS {
        return Err("xlsx_too_many_parts");
    }
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|_| "xlsx_unreadable")?;
        let (role, limit) = role_of(&entry.name().map_err(|_| "xlsx_unreadable")?);
        if entry.size() > limit {
            return Err(match role {
                Some(Role::Sheet) => "xlsx_sheet_too_large",
                Some(Role::Strings) => "xlsx_strings_too_large",
                _ => "xlsx_part_too_large",
            });
        }
        let Some(role) = role else { continue };
        // The zip reader fails past the declared size; `take` bounds it again all the same.
        let mut data = entry.take(limit + 1);
        let mut scan = Scan::new(role);
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err("xlsx_unreadable"),
            };
            total += n as u64;
            if total > limit {
                return Err("xlsx_unreadable");
            }
            scan.feed(&buf[..n])?;
        }
        scan.finish()?;
    }
    Ok(())
}

/// How many times `sig` (4 bytes) occurs in the rest of the reader.
fn count_signatures(r: &mut impl Read, sig: &[u8; 4]) -> io::Result<usize> {
    let mut buf = vec![0u8; 256 * 1024];
    // The last three bytes of the previous chunk, before the new ones.
    let mut keep = 0usize;
    let mut count = 0;
    loop {
        let n = match r.read(&mut buf[keep..]) {
            Ok(0) => return Ok(count),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let end = keep + n;
        count += buf[..end].windows(4).filter(|w| w == sig).count();
        keep = end.min(3);
        buf.copy_within(end - keep..end, 0);
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    /// A worksheet: cells (`c`) bounded.
    Sheet,
    /// The shared strings table: strings (`si`) bounded and counted.
    Strings,
    /// The styles: what calamine's copy of them takes, estimated.
    Styles,
}

/// The kind of a zip entry by its name, and the uncompressed size it may have. Entries of no
/// role are not read here: they are small enough whatever calamine does with them.
fn role_of(name: &str) -> (Option<Role>, u64) {
    let lower = name.to_ascii_lowercase().replace('\\', "/");
    let base = lower.rsplit('/').next().unwrap_or("");
    if base == "sharedstrings.xml" {
        (Some(Role::Strings), XLSX_STRINGS_MAX_BYTES)
    } else if base == "styles.xml" {
        (Some(Role::Styles), XLSX_PART_MAX_BYTES)
    } else if lower.contains("worksheets/") {
        (Some(Role::Sheet), XLSX_SHEET_MAX_BYTES)
    } else {
        (None, XLSX_PART_MAX_BYTES)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum St {
    /// Character data, up to the next `<`.
    Text,
    /// Just after `<`.
    Open,
    /// The element's name.
    Name,
    /// Inside a tag after its name.
    Tag,
    /// Inside an attribute value in quotes.
    Quote(u8),
    /// After `<!`: how many bytes of `--` were seen.
    Bang(u8),
    Comment,
    CData,
    /// A processing instruction (`<?…?>`).
    Pi,
    /// A declaration (`<!DOCTYPE…>`), with the depth of `<…>` inside it.
    Decl(u32),
}

/// A pass over one part's XML that bounds what calamine (through quick-xml) will hold while
/// reading it: every piece of markup or text is at most [`RAW_MAX_BYTES`] (quick-xml buffers
/// one whole), and so is every tracked element (a cell, a shared string, whose text calamine
/// gathers from all its pieces). It ends a piece never earlier than quick-xml does (a tag at
/// its `>` outside quotes, a comment at `-->`, CDATA at `]]>`, a declaration when its nested
/// `<…>` close).
struct Scan {
    role: Role,
    st: St,
    /// Bytes of the current piece (markup or text).
    run: usize,
    /// The current tag's local name (up to 8 bytes; longer names match nothing tracked).
    name: [u8; 8],
    name_len: usize,
    closing: bool,
    /// The last two bytes seen in markup (ends of comments, CDATA, instructions, empty tags).
    prev: [u8; 2],
    /// The tracked element open (its name) and its bytes so far.
    open: Option<(&'static [u8], usize)>,
    /// The tag that opened the tracked element is still being read.
    opened_here: bool,
    /// The `<sst …>` tag, gathered for its `uniqueCount` (calamine reserves that many strings).
    sst_tag: Option<Vec<u8>>,
    strings: usize,
    formats: usize,
    largest_font: usize,
    largest_num_fmt: usize,
}

impl Scan {
    fn new(role: Role) -> Scan {
        Scan {
            role,
            st: St::Text,
            run: 0,
            name: [0; 8],
            name_len: 0,
            closing: false,
            prev: [0; 2],
            open: None,
            opened_here: false,
            sst_tag: None,
            strings: 0,
            formats: 0,
            largest_font: 0,
            largest_num_fmt: 0,
        }
    }

    fn too_large(&self) -> &'static str {
        match self.role {
            Role::Sheet | Role::Strings => "xlsx_cell_too_large",
            Role::Styles => "xlsx_styles_too_large",
        }
    }

    /// Counts `n` bytes into the current piece and the open tracked element.
    fn add(&mut self, n: usize) -> Result<(), &'static str> {
        self.run += n;
        if self.run > RAW_MAX_BYTES {
            return Err(self.too_large());
        }
        if let Some((_, bytes)) = self.open.as_mut() {
            *bytes += n;
            if *bytes > RAW_MAX_BYTES {
                return Err(self.too_large());
            }
        }
        Ok(())
    }

    fn feed(&mut self, buf: &[u8]) -> Result<(), &'static str> {
        let mut i = 0;
        while i < buf.len() {
            // Runs of bytes that change nothing are taken at once (text, attributes, values).
            let rest = &buf[i..];
            match self.st {
                St::Text => {
                    let n = memchr::memchr(b'<', rest).unwrap_or(rest.len());
                    self.add(n)?;
                    i += n;
                    if i == buf.len() {
                        break;
                    }
                    // `<`: a new piece begins.
                    self.run = 0;
                    self.add(1)?;
                    self.st = St::Open;
                    i += 1;
                    continue;
                }
                St::Tag => {
                    let n = memchr::memchr3(b'"', b'\'', b'>', rest).unwrap_or(rest.len());
                    if n > 0 {
                        self.skip(&rest[..n], true)?;
                        i += n;
                        continue;
                    }
                }
                St::Quote(q) => {
                    let n = memchr::memchr(q, rest).unwrap_or(rest.len());
                    if n > 0 {
                        self.skip(&rest[..n], false)?;
                        i += n;
                        continue;
                    }
                }
                _ => {}
            }
            let b = buf[i];
            i += 1;
            self.add(1)?;
            if let Some(tag) = self.sst_tag.as_mut() {
                if tag.len() < 4096 {
                    tag.push(b);
                }
            }
            match self.st {
                St::Text => unreachable!("handled above"),
                St::Open => match b {
                    b'!' => self.st = St::Bang(0),
                    b'?' => self.markup(St::Pi),
                    b'/' => {
                        self.closing = true;
                        self.name_len = 0;
                        self.st = St::Name;
                    }
                    _ => {
                        self.closing = false;
                        self.name_len = 0;
                        self.st = St::Name;
                        self.name_byte(b);
                    }
                },
                St::Name => {
                    if b.is_ascii_whitespace() || b == b'/' || b == b'>' {
                        self.named()?;
                        self.st = St::Tag;
                        self.in_tag(b)?;
                    } else {
                        self.name_byte(b);
                    }
                }
                St::Tag => self.in_tag(b)?,
                St::Quote(q) => {
                    if b == q {
                        self.st = St::Tag;
                    }
                }
                St::Bang(k) => match (k, b) {
                    (0, b'-') => self.st = St::Bang(1),
                    (1, b'-') => self.markup(St::Comment),
                    (0, b'[') => self.markup(St::CData),
                    _ => self.st = St::Decl(1),
                },
                St::Comment => self.end_at(b, *b"--"),
                St::CData => self.end_at(b, *b"]]"),
                St::Pi => {
                    if b == b'>' && self.prev[1] == b'?' {
                        self.st = St::Text;
                        self.run = 0;
                    }
                    self.shift(b);
                }
                St::Decl(depth) => match b {
                    b'<' => self.st = St::Decl(depth + 1),
                    b'>' if depth <= 1 => {
                        self.st = St::Text;
                        self.run = 0;
                    }
                    b'>' => self.st = St::Decl(depth - 1),
                    _ => {}
                },
            }
        }
        Ok(())
    }

    /// Bytes that change no state: counted, gathered into the `<sst>` tag, and (in a tag) kept
    /// as the last ones seen.
    fn skip(&mut self, run: &[u8], in_tag: bool) -> Result<(), &'static str> {
        self.add(run.len())?;
        if let Some(tag) = self.sst_tag.as_mut() {
            let room = 4096usize.saturating_sub(tag.len());
            tag.extend_from_slice(&run[..run.len().min(room)]);
        }
        if in_tag {
            for &b in &run[run.len().saturating_sub(2)..] {
                self.shift(b);
            }
        }
        Ok(())
    }

    fn markup(&mut self, st: St) {
        self.st = st;
        self.prev = [0; 2];
    }

    fn shift(&mut self, b: u8) {
        self.prev = [self.prev[1], b];
    }

    fn end_at(&mut self, b: u8, before: [u8; 2]) {
        if b == b'>' && self.prev == before {
            self.st = St::Text;
            self.run = 0;
        }
        self.shift(b);
    }

    fn name_byte(&mut self, b: u8) {
        if b == b':' {
            // A namespace prefix: the local name follows.
            self.name_len = 0;
        } else if self.name_len < self.name.len() {
            self.name[self.name_len] = b;
            self.name_len += 1;
        } else {
            // Longer than any tracked name: matches none.
            self.name_len = self.name.len() + 1;
        }
    }

    /// A tag's name is complete: open or close what it names.
    fn named(&mut self) -> Result<(), &'static str> {
        const C: &[u8] = b"c";
        const SI: &[u8] = b"si";
        const FONT: &[u8] = b"font";
        const NUM_FMT: &[u8] = b"numFmt";
        let tracked: &[&'static [u8]] = match self.role {
            Role::Sheet => &[C],
            Role::Strings => &[SI],
            Role::Styles => &[FONT, NUM_FMT],
        };
        let (copy, len) = (self.name, self.name_len);
        let local: &[u8] = if len > copy.len() { b"" } else { &copy[..len] };
        let Some(name) = tracked.iter().copied().find(|t| *t == local) else {
            if !self.closing {
                match (self.role, local) {
                    (Role::Strings, b"sst") => self.sst_tag = Some(Vec::new()),
                    (Role::Styles, b"xf") => self.formats += 1,
                    _ => {}
                }
            }
            return Ok(());
        };
        if self.closing {
            if self.open.is_some_and(|(n, _)| n == name) {
                self.close();
            }
        } else {
            if self.role == Role::Strings {
                self.strings += 1;
                if self.strings > XLSX_MAX_STRINGS {
                    return Err("xlsx_strings_too_large");
                }
            }
            if self.open.is_none() {
                self.open = Some((name, name.len() + 1));
                self.opened_here = true;
            }
        }
        Ok(())
    }

    fn close(&mut self) {
        if let Some((name, bytes)) = self.open.take() {
            match name {
                b"font" => self.largest_font = self.largest_font.max(bytes),
                b"numFmt" => self.largest_num_fmt = self.largest_num_fmt.max(bytes),
                _ => {}
            }
        }
    }

    fn in_tag(&mut self, b: u8) -> Result<(), &'static str> {
        match b {
            b'"' | b'\'' => self.st = St::Quote(b),
            b'>' => {
                if self.prev[1] == b'/' && self.opened_here {
                    // `<c …/>`: opened and closed at once.
                    self.close();
                }
                self.opened_here = false;
                if let Some(tag) = self.sst_tag.take() {
                    check_sst_tag(&tag)?;
                }
                self.st = St::Text;
                self.run = 0;
            }
            _ => {}
        }
        self.shift(b);
        Ok(())
    }

    fn finish(&self) -> Result<(), &'static str> {
        if self.role == Role::Styles {
            let each = STYLE_OWN_BYTES + self.largest_font + self.largest_num_fmt;
            if self.formats.saturating_mul(each) > XLSX_STYLES_BUDGET {
                return Err("xlsx_styles_too_large");
            }
        }
        Ok(())
    }
}

/// The `uniqueCount` (and `count`) of the shared strings table: calamine reserves room for
/// that many strings before it reads one.
fn check_sst_tag(tag: &[u8]) -> Result<(), &'static str> {
    let text = String::from_utf8_lossy(tag);
    for attr in ["uniqueCount", "count"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(attr) {
            let after = &text[from + at + attr.len()..];
            from += at + attr.len();
            let Some(v) = after.trim_start().strip_prefix('=') else { continue };
            let v = v.trim_start().trim_start_matches(['"', '\'']);
            let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
            if digits.len() > 9 || digits.parse::<usize>().is_ok_and(|n| n > XLSX_MAX_STRINGS) {
                return Err("xlsx_strings_too_large");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(role: Role, xml: &[u8], chunk: usize) -> Result<Scan, &'static str> {
        let mut s = Scan::new(role);
        for c in xml.chunks(chunk) {
            s.feed(c)?;
        }
        s.finish()?;
        Ok(s)
    }

    #[test]
    fn a_sheet_of_ordinary_cells_passes_in_any_chunking() {
        let xml = br#"<?xml version="1.0"?><worksheet xmlns:x="u"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"/><x:c r="C1" t="inlineStr"><is><t>a&gt;b</t></is></x:c></row><!-- a < comment > --><![CDATA[ <c> ]]></sheetData></worksheet>"#;
        for chunk in [1, 2, 3, 7, 64, 4096] {
            let s = scan(Role::Sheet, xml, chunk).expect("passes");
            assert_eq!(s.open, None, "every cell closed (chunks of {chunk})");
        }
    }

    #[test]
    fn a_cell_over_the_limit_is_refused_in_text_pieces_or_runs() {
        // One long text.
        let mut xml = b"<sheetData><row><c t=\"inlineStr\"><is><t>".to_vec();
        xml.extend(std::iter::repeat_n(b'A', RAW_MAX_BYTES + 1));
        assert_eq!(scan(Role::Sheet, &xml, 1 << 20).err(), Some("xlsx_cell_too_large"));
        // Many short runs of rich text in one cell.
        let mut xml = b"<sheetData><row><c t=\"inlineStr\"><is>".to_vec();
        let run = b"<r><t>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA</t></r>";
        while xml.len() <= RAW_MAX_BYTES + run.len() {
            xml.extend(run);
        }
        assert_eq!(scan(Role::Sheet, &xml, 1 << 20).err(), Some("xlsx_cell_too_large"));
        // The same bytes spread over many cells pass.
        let mut xml = b"<sheetData><row>".to_vec();
        while xml.len() <= RAW_MAX_BYTES + 100 {
            xml.extend(b"<c t=\"inlineStr\"><is><r><t>AAAAAAAAAAAAAAAAAAAA</t></r></is></c>");
        }
        assert!(scan(Role::Sheet, &xml, 1 << 20).is_ok());
    }

    #[test]
    fn an_attribute_value_cannot_hide_a_huge_tag() {
        let mut xml = b"<sheetData><row r=\"".to_vec();
        for _ in 0..(RAW_MAX_BYTES / 4 + 1) {
            xml.extend(b"<>a>");
        }
        assert_eq!(scan(Role::Sheet, &xml, 1 << 20).err(), Some("xlsx_cell_too_large"));
    }

    #[test]
    fn shared_strings_are_counted_and_their_reservation_checked() {
        let ok = br#"<sst xmlns="u" count="3" uniqueCount="2"><si><t>a</t></si><si><r><t>b</t></r></si></sst>"#;
        assert_eq!(scan(Role::Strings, ok, 5).expect("ok").strings, 2);
        let lying = br#"<sst xmlns="u" uniqueCount="99999999999"><si><t>a</t></si></sst>"#;
        assert_eq!(scan(Role::Strings, lying, 5).err(), Some("xlsx_strings_too_large"));
    }

    #[test]
    fn styles_that_would_copy_a_large_font_into_every_format_are_refused() {
        let mut xml = br#"<styleSheet><fonts><font><name val=""#.to_vec();
        xml.extend(std::iter::repeat_n(b'F', 100_000));
        xml.extend(br#""/></font></fonts><cellXfs>"#);
        for _ in 0..1_000 {
            xml.extend(br#"<xf fontId="0"/>"#);
        }
        assert_eq!(scan(Role::Styles, &xml, 4096).err(), Some("xlsx_styles_too_large"));
        let small = br#"<styleSheet><numFmts><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><fonts><font><sz val="11"/><name val="Calibri"/></font></fonts><cellXfs><xf numFmtId="164" fontId="0"/></cellXfs></styleSheet>"#;
        let s = scan(Role::Styles, small, 3).expect("ok");
        assert_eq!((s.formats, s.largest_num_fmt > 0, s.largest_font > 0), (1, true, true));
    }

    #[test]
    fn rows_are_bounded_as_they_come() {
        let mut rows = Rows::default();
        let mut long = vec!["名称".to_string(), "x".repeat(100_000), String::new(), String::new()];
        rows.check(&mut long).expect("a long cell is cut, not refused");
        assert_eq!(long.len(), 2, "trailing empty cells dropped");
        assert_eq!(long[1].chars().count(), CELL_MAX_CHARS + 1);
        let mut wide = vec!["a".to_string(); MAX_COLUMNS + 1];
        assert_eq!(rows.check(&mut wide), Err("too_many_columns"));
        let mut heavy = vec!["字".repeat(CELL_MAX_CHARS); 20];
        assert_eq!(rows.check(&mut heavy), Err("row_too_large"));
        assert_eq!(cell(&"é".repeat(40_000)).chars().count(), CELL_MAX_CHARS + 1);
    }

    #[test]
    fn a_csv_record_over_the_limit_stops_the_reader_but_quoted_line_breaks_do_not_end_it() {
        let mut data = b"a,\"".to_vec();
        while data.len() <= RAW_MAX_BYTES + 10 {
            data.extend(b"line\r\n");
        }
        let mut g = CsvGuard::new(&data[..]);
        let err = std::io::copy(&mut g, &mut std::io::sink()).expect_err("refused");
        assert!(err.get_ref().is_some_and(|x| x.is::<RecordTooLarge>()));
        // The same bytes unquoted are many short records.
        let plain: Vec<u8> = data.iter().copied().filter(|b| *b != b'"').collect();
        std::io::copy(&mut CsvGuard::new(&plain[..]), &mut std::io::sink()).expect("passes");
    }

    #[test]
    fn signatures_are_counted_across_chunk_ends() {
        let mut data = vec![0u8; 256 * 1024 - 2];
        data.extend(b"PK\x01\x02");
        data.extend(b"PK\x01\x02PK\x01\x02");
        assert_eq!(count_signatures(&mut &data[..], b"PK\x01\x02").expect("read"), 3);
    }
}
