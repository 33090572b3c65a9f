//! Short, stable names for object contents (pod-template-hash, controller-revision-hash):
//! FNV-1a over the bytes and the collision count, spelled with the alphabet Kubernetes uses
//! for generated names (no vowels, so no words).

pub fn short_hash(bytes: &[u8], collision_count: Option<i32>) -> String {
    let mut h: u32 = 0x811c9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x01000193);
        }
    };
    feed(bytes);
    if let Some(c) = collision_count {
        feed(&c.to_le_bytes());
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    h.to_string()
        .bytes()
        .map(|b| ALPHABET[usize::from(b) % ALPHABET.len()] as char)
        .collect()
}
