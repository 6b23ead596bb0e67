//! A small map keyed by `u64` ids, in key order: the one map type of the core and the shell.
//!
//! The maps it replaces hold what is in flight (invocations, HTTP requests, group calls,
//! upload streams, polls): a handful of entries, keyed by ids that come from increasing
//! counters, so an insert is nearly always a push at the end. `std`'s `BTreeMap` brings a
//! full copy of the B-tree code for every key and value type (a large share of the wasm
//! module); this map is two vectors, and the key search is one non-generic function over a
//! `&[u64]`, so what is instantiated per value type is only `Vec`'s own insert and remove.
//!
//! Iteration (and [`IdMap::into_iter`], [`IdMap::into_values`]) is in key order, as with
//! `BTreeMap`: a connection that closes fails its pending calls in the order they were made.

/// Where `key` is in the sorted `keys`: `Ok(index)` when present, `Err(index)` where it would
/// be inserted. The last key is checked first: new ids are the largest, and the entries most
/// often looked up and removed are recent ones.
fn search(keys: &[u64], key: u64) -> Result<usize, usize> {
    match keys.last() {
        None => Err(0),
        Some(&last) if key > last => Err(keys.len()),
        Some(&last) if key == last => Ok(keys.len() - 1),
        Some(_) => keys.binary_search(&key),
    }
}

/// Finds `key` in the sorted `keys`, adding it when absent: `Ok(index)` when it was there,
/// `Err(index)` where it was added (its value is still to be inserted at that index).
fn claim(keys: &mut Vec<u64>, key: u64) -> Result<usize, usize> {
    let i = match search(keys, key) {
        Ok(found) => return Ok(found),
        Err(place) => place,
    };
    keys.insert(i, key);
    Err(i)
}

/// A map from `u64` ids to `V`, kept in key order.
#[derive(Clone, PartialEq, Eq)]
pub struct IdMap<V> {
    /// Sorted, without repeats; `values[i]` belongs to `keys[i]`.
    keys: Vec<u64>,
    values: Vec<V>,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap::new()
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for IdMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.keys.iter().zip(&self.values)).finish()
    }
}

impl<V> IdMap<V> {
    /// An empty map (allocates nothing).
    pub const fn new() -> Self {
        IdMap { keys: Vec::new(), values: Vec::new() }
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `key` has an entry.
    pub fn contains_key(&self, key: &u64) -> bool {
        search(&self.keys, *key).is_ok()
    }

    /// The value of `key`.
    pub fn get(&self, key: &u64) -> Option<&V> {
        search(&self.keys, *key).ok().map(|i| &self.values[i])
    }

    /// The value of `key`, to change.
    pub fn get_mut(&mut self, key: &u64) -> Option<&mut V> {
        search(&self.keys, *key).ok().map(|i| &mut self.values[i])
    }

    /// Sets the value of `key`; returns the value it replaced.
    pub fn insert(&mut self, key: u64, value: V) -> Option<V> {
        match claim(&mut self.keys, key) {
            Ok(i) => Some(std::mem::replace(&mut self.values[i], value)),
            Err(i) => {
                self.values.insert(i, value);
                None
            }
        }
    }

    /// The value of `key`, inserting `make()` first when there is none.
    pub fn get_or_insert_with(&mut self, key: u64, make: impl FnOnce() -> V) -> &mut V {
        let i = match claim(&mut self.keys, key) {
            Ok(i) => i,
            Err(i) => {
                self.values.insert(i, make());
                i
            }
        };
        &mut self.values[i]
    }

    /// Removes `key`'s entry and returns its value.
    pub fn remove(&mut self, key: &u64) -> Option<V> {
        let i = search(&self.keys, *key).ok()?;
        self.keys.remove(i);
        Some(self.values.remove(i))
    }

    /// Keeps only the entries for which `keep` returns true (visited in key order).
    pub fn retain(&mut self, mut keep: impl FnMut(&u64, &mut V) -> bool) {
        let keys = &mut self.keys;
        let (mut read, mut write) = (0, 0);
        self.values.retain_mut(|value| {
            let key = keys[read];
            read += 1;
            let kept = keep(&key, value);
            if kept {
                keys[write] = key;
                write += 1;
            }
            kept
        });
        keys.truncate(write);
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.values.clear();
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&u64, &V)> {
        self.keys.iter().zip(&self.values)
    }

    /// The keys in order.
    pub fn keys(&self) -> &[u64] {
        &self.keys
    }

    /// The values in key order.
    pub fn values(&self) -> &[V] {
        &self.values
    }

    /// The values in key order, taking the map.
    pub fn into_values(self) -> std::vec::IntoIter<V> {
        self.values.into_iter()
    }
}

impl<V> IntoIterator for IdMap<V> {
    type Item = (u64, V);
    type IntoIter = std::iter::Zip<std::vec::IntoIter<u64>, std::vec::IntoIter<V>>;

    /// The entries in key order, taking the map.
    fn into_iter(self) -> Self::IntoIter {
        self.keys.into_iter().zip(self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn search_finds_and_places_keys() {
        assert_eq!(search(&[], 5), Err(0));
        assert_eq!(search(&[1, 3, 5], 5), Ok(2));
        assert_eq!(search(&[1, 3, 5], 6), Err(3));
        assert_eq!(search(&[1, 3, 5], 1), Ok(0));
        assert_eq!(search(&[1, 3, 5], 0), Err(0));
        assert_eq!(search(&[1, 3, 5], 4), Err(2));
        assert_eq!(search(&[u64::MAX], u64::MAX), Ok(0));
    }

    #[test]
    fn increasing_ids_are_pushed_and_removed_from_anywhere() {
        let mut map = IdMap::new();
        for id in 0..5u64 {
            assert_eq!(map.insert(id, id * 10), None);
        }
        assert_eq!(map.len(), 5);
        assert_eq!(map.remove(&2), Some(20));
        assert_eq!(map.remove(&2), None);
        assert_eq!(map.get(&3), Some(&30));
        assert!(!map.contains_key(&2));
        assert_eq!(map.keys(), &[0, 1, 3, 4]);
        assert_eq!(map.insert(3, 33), Some(30));
        *map.get_mut(&4).unwrap() += 1;
        assert_eq!(map.into_iter().collect::<Vec<_>>(), vec![(0, 0), (1, 10), (3, 33), (4, 41)]);
    }

    #[test]
    fn out_of_order_inserts_keep_key_order() {
        let mut map = IdMap::new();
        for id in [7u64, 2, 9, 0, 5] {
            map.insert(id, ());
        }
        assert_eq!(map.keys(), &[0, 2, 5, 7, 9]);
        map.get_or_insert_with(3, || ());
        map.get_or_insert_with(3, || panic!("3 is present"));
        assert_eq!(map.keys(), &[0, 2, 3, 5, 7, 9]);
    }

    #[test]
    fn retain_keeps_keys_and_values_together() {
        let mut map: IdMap<String> = (0..10u64).fold(IdMap::new(), |mut map, id| {
            map.insert(id, id.to_string());
            map
        });
        map.retain(|id, value| {
            value.push('!');
            id % 3 == 0
        });
        let entries: Vec<_> = map.iter().map(|(k, v)| (*k, v.clone())).collect();
        assert_eq!(entries, vec![(0, "0!".into()), (3, "3!".into()), (6, "6!".into()), (9, "9!".into())]);
        map.clear();
        assert!(map.is_empty());
    }

    use crate::core::test_rng::Rng;

    #[test]
    fn behaves_like_btreemap_under_random_operations() {
        for seed in 1..=40u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let mut map: IdMap<u64> = IdMap::new();
            let mut model: BTreeMap<u64, u64> = BTreeMap::new();
            let mut next_id = 0u64;
            for step in 0..2_000u64 {
                // Mostly increasing ids, as the counters give, with some old and random ones.
                let key = match rng.next() % 4 {
                    0 | 1 => {
                        next_id += rng.next() % 3;
                        next_id
                    }
                    2 => rng.next() % (next_id + 1),
                    _ => rng.next() % 64,
                };
                match rng.next() % 8 {
                    0..=2 => assert_eq!(map.insert(key, step), model.insert(key, step)),
                    3 | 4 => assert_eq!(map.remove(&key), model.remove(&key)),
                    5 => assert_eq!(map.get(&key), model.get(&key)),
                    6 => {
                        *map.get_or_insert_with(key, || 0) += 1;
                        *model.entry(key).or_insert(0) += 1;
                    }
                    _ => {
                        let modulus = rng.next() % 5 + 2;
                        map.retain(|k, v| (k + *v) % modulus != 0);
                        model.retain(|k, v| (k + *v) % modulus != 0);
                    }
                }
                assert_eq!(map.len(), model.len());
                assert_eq!(map.contains_key(&key), model.contains_key(&key));
            }
            let ours: Vec<(u64, u64)> = map.iter().map(|(k, v)| (*k, *v)).collect();
            let theirs: Vec<(u64, u64)> = model.iter().map(|(k, v)| (*k, *v)).collect();
            assert_eq!(ours, theirs, "seed {seed}");
            assert_eq!(map.into_values().collect::<Vec<_>>(), model.into_values().collect::<Vec<_>>());
        }
    }
}
