//! The dedupe filter's tables of string keys: a small open-addressing hash table.
//!
//! `std`'s `HashMap` brings hashbrown and SipHash into the wasm module, once per key and value
//! type. Here everything that touches keys and slots is one non-generic [`KeyIndex`]; the
//! generic [`KeyTable`] only keeps a vector of values next to it. Keys and values are dense
//! vectors (a removal moves the last entry into the gap), and the slots hold entry numbers,
//! probed linearly and kept at most half full; a removal shifts the following slots back, so
//! no tombstones pile up.
//!
//! The hash is FNV-1a without a secret key. `std`'s `RandomState` has no randomness source on
//! `wasm32-unknown-unknown` either (its keys come from memory addresses), and the tables are
//! bounded (see `dedupe`), so a flood of colliding keys costs time bounded by the table size.

/// FNV-1a over the key's bytes, folded to 32 bits.
fn hash(key: &str) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash ^ (hash >> 32)) as u32
}

/// Keys, their hashes and the slots that find them. Entry `n` is `keys[n]`; a slot holds
/// `n + 1`, or 0 when empty.
#[derive(Debug, Clone, Default)]
struct KeyIndex {
    keys: Vec<String>,
    hashes: Vec<u32>,
    slots: Vec<u32>,
}

impl KeyIndex {
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The slot of `key`, or `Err(first empty slot on its probe)`. Needs at least one slot.
    fn probe(&self, key: &str, key_hash: u32) -> Result<usize, usize> {
        let mask = self.mask();
        let mut slot = key_hash as usize & mask;
        loop {
            match self.slots[slot] {
                0 => return Err(slot),
                entry => {
                    let n = entry as usize - 1;
                    if self.hashes[n] == key_hash && self.keys[n] == key {
                        return Ok(slot);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    fn find(&self, key: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        self.probe(key, hash(key)).ok().map(|slot| self.slots[slot] as usize - 1)
    }

    /// The entry of `key`, added at the end when new: `(entry, added)`.
    fn insert(&mut self, key: &str) -> (usize, bool) {
        if (self.keys.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let key_hash = hash(key);
        match self.probe(key, key_hash) {
            Ok(slot) => (self.slots[slot] as usize - 1, false),
            Err(slot) => {
                let n = self.keys.len();
                self.keys.push(key.to_string());
                self.hashes.push(key_hash);
                self.slots[slot] = n as u32 + 1;
                (n, true)
            }
        }
    }

    /// Doubles the slots (at least 8) and places every entry again.
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(8);
        self.slots = vec![0; size];
        let mask = size - 1;
        for (n, &key_hash) in self.hashes.iter().enumerate() {
            let mut slot = key_hash as usize & mask;
            while self.slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = n as u32 + 1;
        }
    }

    /// Removes `key`; returns the entry it had, which the last entry (if another) now fills.
    fn remove(&mut self, key: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut hole = self.probe(key, hash(key)).ok()?;
        let n = self.slots[hole] as usize - 1;
        // Shift back the slots after the hole that may sit there: those whose home slot is not
        // cyclically within (hole, next].
        let mask = self.mask();
        let mut next = hole;
        loop {
            next = (next + 1) & mask;
            let entry = self.slots[next];
            if entry == 0 {
                break;
            }
            let home = self.hashes[entry as usize - 1] as usize & mask;
            if (next.wrapping_sub(home) & mask) >= (next.wrapping_sub(hole) & mask) {
                self.slots[hole] = entry;
                hole = next;
            }
        }
        self.slots[hole] = 0;
        // Move the last entry into the gap, and point its slot at its new place.
        let last = self.keys.len() - 1;
        if n != last {
            let mut slot = self.hashes[last] as usize & mask;
            while self.slots[slot] as usize != last + 1 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = n as u32 + 1;
        }
        self.keys.swap_remove(n);
        self.hashes.swap_remove(n);
        Some(n)
    }

    fn clear(&mut self) {
        self.keys.clear();
        self.hashes.clear();
        self.slots.clear();
    }
}

/// A map from string keys to `V`, in no particular order.
#[derive(Debug, Clone)]
pub struct KeyTable<V> {
    index: KeyIndex,
    /// `values[n]` belongs to the index's entry `n`.
    values: Vec<V>,
}

impl<V> Default for KeyTable<V> {
    fn default() -> Self {
        KeyTable { index: KeyIndex::default(), values: Vec::new() }
    }
}

impl<V> KeyTable<V> {
    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.index.find(key).is_some()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.index.find(key).map(|n| &self.values[n])
    }

    /// Sets the value of `key`.
    pub fn insert(&mut self, key: &str, value: V) {
        match self.index.insert(key) {
            (_, true) => self.values.push(value),
            (n, false) => self.values[n] = value,
        }
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.index.remove(key).map(|n| self.values.swap_remove(n))
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.index.clear();
        self.values.clear();
    }

    /// The entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.index.keys.iter().map(String::as_str).zip(&self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn inserts_finds_replaces_and_removes() {
        let mut table = KeyTable::default();
        assert!(table.is_empty());
        assert_eq!(table.get("a"), None);
        assert_eq!(table.remove("a"), None);
        table.insert("a", 1);
        table.insert("b", 2);
        table.insert("a", 3);
        assert_eq!(table.len(), 2);
        assert_eq!(table.get("a"), Some(&3));
        assert!(table.contains_key("b"));
        assert_eq!(table.remove("a"), Some(3));
        assert_eq!(table.get("b"), Some(&2));
        assert!(!table.contains_key("a"));
        table.clear();
        assert!(table.is_empty());
        assert!(!table.contains_key("b"));
        table.insert("", 9);
        assert_eq!(table.get(""), Some(&9));
    }

    #[test]
    fn many_keys_grow_and_shrink() {
        let mut table = KeyTable::default();
        for n in 0..5_000u32 {
            table.insert(&n.to_string(), n);
        }
        for n in (0..5_000u32).step_by(2) {
            assert_eq!(table.remove(&n.to_string()), Some(n));
        }
        for n in 0..5_000u32 {
            assert_eq!(table.get(&n.to_string()), (n % 2 == 1).then_some(&n), "{n}");
        }
        assert_eq!(table.len(), 2_500);
    }

    use crate::core::test_rng::Rng;

    #[test]
    fn behaves_like_hashmap_under_random_operations() {
        for seed in 1..=30u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let mut table: KeyTable<u64> = KeyTable::default();
            let mut model: HashMap<String, u64> = HashMap::new();
            // Few distinct keys, so the table fills, collides and empties again.
            let universe = 1 + rng.next() % 300;
            for step in 0..4_000u64 {
                let key = format!("k{}", rng.next() % universe);
                match rng.next() % 6 {
                    0..=2 => {
                        table.insert(&key, step);
                        model.insert(key.clone(), step);
                    }
                    3 | 4 => assert_eq!(table.remove(&key), model.remove(&key), "seed {seed} step {step}"),
                    _ if rng.next().is_multiple_of(50) => {
                        table.clear();
                        model.clear();
                    }
                    _ => {}
                }
                assert_eq!(table.get(&key), model.get(&key), "seed {seed} step {step}");
                assert_eq!(table.len(), model.len());
            }
            let mut ours: Vec<(String, u64)> = table.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            let mut theirs: Vec<(String, u64)> = model.into_iter().collect();
            ours.sort();
            theirs.sort();
            assert_eq!(ours, theirs, "seed {seed}");
        }
    }
}
