//! Recognising a file's format from its first bytes, never from its name: a PDF starts with
//! `%PDF-`, a PNG and a JPEG with their signatures, and the office formats are zip files whose
//! first entries name what they hold (`word/…` in a Word document, `xl/…` in a workbook, and
//! an OpenDocument text's uncompressed `mimetype` entry).

/// How many leading bytes [`recognise`] looks at.
pub const SNIFF_BYTES: usize = 8 * 1024;

pub const PDF: &str = "application/pdf";
pub const PNG: &str = "image/png";
pub const JPEG: &str = "image/jpeg";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const ODT: &str = "application/vnd.oasis.opendocument.text";
pub const TEXT: &str = "text/plain; charset=utf-8";

/// The formats applications take, in words for an error message.
pub const DOCUMENT_FORMATS: &str = "PDF, Word (.docx), Excel (.xlsx), OpenDocument text (.odt), PNG or JPEG";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The names of the entries whose local headers lie within `head` (a zip file's start).
fn zip_entry_names(head: &[u8]) -> Vec<&[u8]> {
    let mut names = Vec::new();
    let mut i = 0;
    while i + 30 <= head.len() {
        if &head[i..i + 4] != b"PK\x03\x04" {
            i += 1;
            continue;
        }
        let name_len = usize::from(u16::from_le_bytes([head[i + 26], head[i + 27]]));
        let start = i + 30;
        match head.get(start..start + name_len) {
            Some(name) => names.push(name),
            None => break,
        }
        i = start + name_len;
    }
    names
}

/// What the first bytes (up to [`SNIFF_BYTES`]) of a file say it is: one of the document and
/// image formats above, plain UTF-8 text when `allow_text`, or `None`.
pub fn recognise(head: &[u8], allow_text: bool) -> Option<&'static str> {
    if head.starts_with(b"%PDF-") {
        return Some(PDF);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(PNG);
    }
    if head.starts_with(b"\xFF\xD8\xFF") {
        return Some(JPEG);
    }
    if head.starts_with(b"PK\x03\x04") {
        // OpenDocument puts an uncompressed `mimetype` entry first.
        if contains(head, b"mimetypeapplication/vnd.oasis.opendocument.text") {
            return Some(ODT);
        }
        let names = zip_entry_names(head);
        if names.iter().any(|n| n.starts_with(b"word/")) {
            return Some(DOCX);
        }
        if names.iter().any(|n| n.starts_with(b"xl/")) {
            return Some(XLSX);
        }
        return None;
    }
    if allow_text && !head.is_empty() && !head.contains(&0) {
        // The head may end inside a multi-byte character.
        let valid = match std::str::from_utf8(head) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
        };
        if valid {
            return Some(TEXT);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip local file header for an entry, followed by `body`.
    fn entry(name: &str, body: &[u8]) -> Vec<u8> {
        let mut v = b"PK\x03\x04".to_vec();
        v.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend_from_slice(&(name.len() as u16).to_le_bytes());
        v.extend_from_slice(&0u16.to_le_bytes());
        v.extend_from_slice(name.as_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn formats_are_recognised_by_content_not_name() {
        assert_eq!(recognise(b"%PDF-1.7\n", false), Some(PDF));
        assert_eq!(recognise(b"\x89PNG\r\n\x1a\n....", false), Some(PNG));
        assert_eq!(recognise(b"\xFF\xD8\xFF\xE0..JFIF", false), Some(JPEG));
        let mut docx = entry("[Content_Types].xml", b"<Types/>");
        docx.extend(entry("word/document.xml", b"<w:document/>"));
        assert_eq!(recognise(&docx, false), Some(DOCX));
        let mut xlsx = entry("[Content_Types].xml", b"<Types/>");
        xlsx.extend(entry("xl/workbook.xml", b"<workbook/>"));
        assert_eq!(recognise(&xlsx, false), Some(XLSX));
        let odt = entry("mimetype", b"application/vnd.oasis.opendocument.text");
        assert_eq!(recognise(&odt, false), Some(ODT));
        // A plain zip, an executable and a script are refused whatever they are called.
        assert_eq!(recognise(&entry("notes.txt", b"hi"), false), None);
        assert_eq!(recognise(b"MZ\x90\x00\x03", false), None);
        assert_eq!(recognise(b"#!/bin/sh\nrm -rf /", false), None);
        assert_eq!(recognise(b"Plain notes", true), Some(TEXT));
        assert_eq!(recognise(b"bin\x00ary", true), None);
        // A head cut inside a multi-byte character is still text.
        assert_eq!(recognise("café".as_bytes().split_at(4).0, true), Some(TEXT));
    }
}
