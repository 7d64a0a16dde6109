//! Random hex identifiers (trace, span, fingerprints) drawn from the generator's seeded RNG.

use rand::RngCore;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `len` lowercase hex digits from `rng`.
pub fn hex_id(rng: &mut impl RngCore, len: usize) -> String {
    let mut s = String::with_capacity(len);
    let mut bits = 0u64;
    let mut left = 0;
    for _ in 0..len {
        if left == 0 {
            bits = rng.next_u64();
            left = 16;
        }
        s.push(HEX[(bits & 15) as usize] as char);
        bits >>= 4;
        left -= 1;
    }
    s
}

/// A UUID v4 (version and variant bits set) made from 16 bytes of `rng`.
pub fn uuid_v4(rng: &mut impl RngCore) -> uuid::Uuid {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid()
}
