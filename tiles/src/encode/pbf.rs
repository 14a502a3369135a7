//! The few protocol-buffer writes an MVT needs: varints, zigzag, and
//! length-delimited fields (spec: developers.google.com/protocol-buffers
//! encoding; MVT 2.1 field numbers are in `mod.rs`).

/// Wire types used by MVT.
pub const VARINT: u8 = 0;
pub const FIXED64: u8 = 1;
pub const LEN: u8 = 2;

pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire));
}

pub fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

pub fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// A length-delimited field holding `bytes`.
pub fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(out, field, LEN);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub fn varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    key(out, field, VARINT);
    varint(out, v);
}

/// Bytes of `v` as a varint.
pub fn varint_len(v: u64) -> usize {
    // 7 bits per byte; 0 takes one byte.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Bytes of a packed repeated uint32 field (key, length and body; 0 when
/// empty, as nothing is written then). Fields used here are < 16: one-byte keys.
pub fn packed_len(values: &[u32]) -> usize {
    if values.is_empty() {
        return 0;
    }
    let body = packed_body_len(values);
    1 + varint_len(body as u64) + body
}

fn packed_body_len(values: &[u32]) -> usize {
    values.iter().map(|v| varint_len(u64::from(*v))).sum()
}

/// A packed repeated uint32 field, written straight into `out`.
pub fn packed_field(out: &mut Vec<u8>, field: u32, values: &[u32]) {
    if values.is_empty() {
        return;
    }
    key(out, field, LEN);
    varint(out, packed_body_len(values) as u64);
    for v in values {
        varint(out, u64::from(*v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_follow_the_protobuf_encoding() {
        let mut b = Vec::new();
        varint(&mut b, 300);
        assert_eq!(b, [0xac, 0x02]);
        assert_eq!([zigzag(0), zigzag(-1), zigzag(1), zigzag(-2)], [0, 1, 2, 3]);
        assert_eq!(zigzag64(-3), 5);
        let mut f = Vec::new();
        packed_field(&mut f, 4, &[9, 1]);
        assert_eq!(f, [0x22, 2, 9, 1]);
        assert_eq!(packed_len(&[9, 1]), f.len());
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut b = Vec::new();
            varint(&mut b, v);
            assert_eq!(varint_len(v), b.len(), "{v}");
        }
    }
}
