//! The text transfer format's record framing: every JSON record ends with 0x1E.
//!
//! A transport frame may carry several records; a frame that ends mid-record is an error for
//! the JSON hub protocol (transports deliver whole records), so there is no partial buffering here.

use super::ProtocolError;

/// The ASCII record separator that ends every record of the text format.
pub const RECORD_SEPARATOR: char = '\u{1e}';

/// Default upper bound for one transport frame, in bytes. Large enough for any sane hub payload,
/// small enough that a hostile server cannot make us parse gigabytes.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 32 * 1024 * 1024;

/// Splits a frame into its records (without separators), rejecting a cut-off last record and
/// frames larger than `max_bytes`. Empty records (two separators in a row) are skipped.
pub fn split_records(frame: &str, max_bytes: usize) -> Result<Vec<&str>, ProtocolError> {
    Ok(records(frame, max_bytes)?.collect())
}

/// [`split_records`] as an iterator, so reading a frame allocates no list of its records.
pub fn records(frame: &str, max_bytes: usize) -> Result<impl Iterator<Item = &str>, ProtocolError> {
    if frame.len() > max_bytes {
        return Err(ProtocolError::TooLarge { size: frame.len(), limit: max_bytes });
    }
    let body = match frame.strip_suffix(RECORD_SEPARATOR) {
        Some(body) => body,
        None if frame.is_empty() => "",
        None => return Err(ProtocolError::IncompleteRecord),
    };
    Ok(body.split(RECORD_SEPARATOR).filter(|record| !record.is_empty()))
}

/// Appends the record separator to one serialized record.
pub fn write_record(mut record: String) -> String {
    record.push(RECORD_SEPARATOR);
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_records_in_one_frame_are_split_in_order() {
        assert_eq!(split_records("{\"a\":1}\u{1e}{}\u{1e}", 1024).unwrap(), vec!["{\"a\":1}", "{}"]);
    }

    #[test]
    fn a_frame_without_trailing_separator_is_incomplete() {
        assert_eq!(split_records("{}\u{1e}{\"type\":6}", 1024), Err(ProtocolError::IncompleteRecord));
    }

    #[test]
    fn an_oversized_frame_is_rejected_before_parsing() {
        let frame = "x".repeat(100);
        assert_eq!(
            split_records(&frame, 10),
            Err(ProtocolError::TooLarge { size: 100, limit: 10 })
        );
    }

    #[test]
    fn empty_frames_and_empty_records_yield_nothing() {
        assert!(split_records("", 10).unwrap().is_empty());
        assert!(split_records("\u{1e}\u{1e}", 10).unwrap().is_empty());
    }

    #[test]
    fn write_record_appends_the_separator() {
        assert_eq!(write_record("{}".into()), "{}\u{1e}");
    }
}
