//! LEB128 varints, the integers of the format (and of postcard): written
//! into a reused buffer on the record path, read in place on the replay
//! path, one-byte values inline both ways.

/// Appends a LEB128 varint.
#[inline(always)]
pub(crate) fn put_varint(out: &mut Vec<u8>, v: u64) {
    put_varints(out, [v]);
}

/// Appends `N` LEB128 varints with one `reserve` for all of them (a
/// thread event's head and values: a lock's open is recorded on every
/// lock, so each capacity check saved counts), then a loop of unchecked
/// stores through a pointer kept in a register (a store through a `u8`
/// pointer may alias the `Vec`'s own fields, so indexing it would reload
/// them on every byte).
#[inline(always)]
pub(crate) fn put_varints<const N: usize>(out: &mut Vec<u8>, values: [u64; N]) {
    out.reserve(10 * N);
    let len = out.len();
    // SAFETY: `reserve(10 * N)` made room for `N` u64 varints (at most 10
    // bytes each) after `len`; the loop writes one byte per 7 bits of each,
    // then `set_len` covers exactly the bytes written.
    unsafe {
        let start = out.as_mut_ptr().add(len);
        let mut at = start;
        for mut v in values {
            while v >= 0x80 {
                at.write(v as u8 | 0x80);
                v >>= 7;
                at = at.add(1);
            }
            at.write(v as u8);
            at = at.add(1);
        }
        out.set_len(len + at.offset_from(start) as usize);
    }
}

pub(super) fn put_varint_u128(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The length of a LEB128 varint.
pub(crate) fn varint_len(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).max(1).div_ceil(7)
}

/// Reads a LEB128 varint; `None` when the bytes end or it overflows 64 bits.
/// A one-byte varint (most heads, lengths and small values) is read
/// inline; longer ones out of line.
#[inline(always)]
pub(crate) fn take_varint(bytes: &mut &[u8]) -> Option<u64> {
    match bytes.split_first() {
        Some((&first, rest)) if first < 0x80 => {
            *bytes = rest;
            Some(u64::from(first))
        }
        _ => take_long_varint(bytes),
    }
}

#[inline(never)]
fn take_long_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if i == 9 && b > 1 {
                return None;
            }
            *bytes = &bytes[i + 1..];
            return Some(v);
        }
    }
    None
}
