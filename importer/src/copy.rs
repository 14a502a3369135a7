//! PostgreSQL binary COPY encoding of rows.

/// Signature, flags and header-extension length opening a binary COPY stream.
pub const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The trailer closing a binary COPY stream.
pub const COPY_TRAILER: &[u8] = &[0xff, 0xff];

/// Buffers of COPY rows going back to the producers once sent: a work
/// item's rows are tens of MB, and a fresh buffer of that size is new
/// memory from the OS that the kernel zeroes page by page (a tenth of the
/// importer's CPU before the buffers were reused).
static BUFFERS: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

/// Buffers kept for reuse, and the largest kept.
const KEPT_BUFFERS: usize = 16;
const KEPT_CAPACITY: usize = 64 << 20;

/// An empty buffer with room for at least `capacity` bytes, reused when one
/// was given back.
pub fn take_buffer(capacity: usize) -> Vec<u8> {
    let reused = BUFFERS.lock().map(|mut b| b.pop()).unwrap_or(None);
    let mut buf = reused.unwrap_or_default();
    buf.reserve(capacity);
    buf
}

/// Gives a buffer back for [`take_buffer`] (dropped when enough are kept).
pub fn give_buffer(mut buf: Vec<u8>) {
    if buf.capacity() > KEPT_CAPACITY {
        return;
    }
    buf.clear();
    if let Ok(mut b) = BUFFERS.lock() {
        if b.len() < KEPT_BUFFERS {
            b.push(buf);
        }
    }
}

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
    /// A row buffer on a reused allocation ([`take_buffer`]).
    pub fn reused(n: usize) -> Self {
        RowBuf {
            buf: take_buffer(n),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_with_their_room() {
        let mut b = take_buffer(1 << 20);
        assert!(b.is_empty() && b.capacity() >= 1 << 20);
        b.extend_from_slice(b"rows");
        give_buffer(b);
        // Whichever buffer comes back (tests share the pool), it is empty
        // and has at least the room asked for.
        let again = take_buffer(10);
        assert!(again.is_empty() && again.capacity() >= 10);
        // Oversized buffers are not kept.
        give_buffer(Vec::with_capacity(KEPT_CAPACITY + 1));
        assert!(BUFFERS
            .lock()
            .unwrap()
            .iter()
            .all(|b| b.capacity() <= KEPT_CAPACITY));
    }
}
