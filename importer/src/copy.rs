//! PostgreSQL binary COPY encoding of rows.

/// Signature, flags and header-extension length opening a binary COPY stream.
pub const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The trailer closing a binary COPY stream.
pub const COPY_TRAILER: &[u8] = &[0xff, 0xff];

/// Appends binary COPY rows to a buffer.
pub struct RowBuf {
    pub buf: Vec<u8>,
}

impl RowBuf {
    pub fn with_capacity(n: usize) -> Self {
        RowBuf {
            buf: Vec::with_capacity(n),
        }
    }
    pub fn begin_row(&mut self, columns: u16) {
        self.buf.extend_from_slice(&(columns as i16).to_be_bytes());
    }
    pub fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(&(b.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(b);
    }
    pub fn i16(&mut self, v: i16) {
        self.buf.extend_from_slice(&2i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&4i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
    }
    pub fn bool(&mut self, v: bool) {
        self.buf.extend_from_slice(&1i32.to_be_bytes());
        self.buf.push(u8::from(v));
    }
    /// A date as days since 2000-01-01 (PostgreSQL's epoch).
    pub fn date_days(&mut self, days: i32) {
        self.i32(days);
    }
    /// Starts a value whose bytes the caller appends to `buf`; returns the
    /// position to pass to [`RowBuf::end_value`].
    pub fn begin_value(&mut self) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        at
    }
    /// Patches the length of a value started with [`RowBuf::begin_value`].
    pub fn end_value(&mut self, at: usize) {
        let len = (self.buf.len() - at - 4) as i32;
        self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    /// Drops a value started with [`RowBuf::begin_value`] and writes NULL instead.
    pub fn cancel_value(&mut self, at: usize) {
        self.buf.truncate(at);
        self.null();
    }
}
