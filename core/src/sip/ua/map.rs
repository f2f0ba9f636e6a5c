//! The maps and sets of the UA's transaction and call tables.
//!
//! With the feature `btree-tables` (part of `full`, what the gateway builds) they are the
//! B-trees of `alloc`: O(log n) for a gateway's thousands of transactions and calls,
//! iterated in ascending key order.
//! Without it the maps are [`VecMap`]s: `Vec`s in insertion order, found by a scan that
//! compares keys for equality, with the B-trees' interface but a fraction of their code
//! per key/value type (and no ordering code for the key types at all), and the sets (timer
//! indexes) are not used: the tables scan their few entries instead. That suits a browser
//! UA (the wasm package), which holds a handful of entries and pays for every byte of code
//! in its download. The UA's call handles are handed out in ascending order, so its call
//! table iterates by ascending handle in both builds; transactions iterate in the order
//! they were created (the B-trees: by key, i.e. by random branch), which only orders
//! timers due at the same instant.
//!
//! Inputs: keys and values. Outputs: lookups and iteration. Nothing here reads peer data
//! itself; the tables that use these bound their sizes (`max_transactions`, `max_calls`).

use alloc::vec::Vec;
use core::borrow::Borrow;

#[cfg(feature = "btree-tables")]
pub(crate) use alloc::collections::{BTreeMap as Map, BTreeSet as Set};

#[cfg(not(feature = "btree-tables"))]
pub(crate) use self::VecMap as Map;

/// Adds `key`, which the caller knows is not in `map` (a transaction key just checked
/// absent, or made from a fresh random branch): the B-tree's insert.
#[cfg(feature = "btree-tables")]
pub(crate) fn insert_new<K: Ord, V>(map: &mut Map<K, V>, key: K, value: V) {
    map.insert(key, value);
}

/// Adds `key`, which the caller knows is not in `map`: a push, no search.
#[cfg(not(feature = "btree-tables"))]
pub(crate) fn insert_new<K: Eq, V>(map: &mut Map<K, V>, key: K, value: V) {
    map.push_new(key, value);
}

/// The UA's output queues (transmits, events): first in, first out.
#[cfg(feature = "btree-tables")]
pub(crate) type Queue<T> = alloc::collections::VecDeque<T>;

/// The UA's output queues (transmits, events) without `btree-tables`: a `Vec` taken from
/// the front. A browser UA's queues hold a few entries, drained after each input, so the
/// shift costs nothing, and a `Vec` needs none of a ring buffer's growth code per type.
#[cfg(not(feature = "btree-tables"))]
#[derive(Debug)]
pub(crate) struct Queue<T>(Vec<T>);

#[cfg(not(feature = "btree-tables"))]
impl<T> Queue<T> {
    /// An empty queue.
    pub(crate) const fn new() -> Self {
        Queue(Vec::new())
    }

    /// Appends `t`.
    pub(crate) fn push_back(&mut self, t: T) {
        self.0.push(t);
    }

    /// Takes the oldest entry.
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        (!self.0.is_empty()).then(|| self.0.remove(0))
    }
}

/// A map kept as a `Vec` of entries in insertion order (a B-tree map's interface, the
/// subset the UA uses; a replaced value keeps its entry's place).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "btree-tables", allow(dead_code))]
pub(crate) struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }
}

// Not every method is used by every build (the registrar's `bindings` is `sip-server`).
#[allow(dead_code)]
impl<K: Eq, V> VecMap<K, V> {
    /// An empty map.
    pub(crate) const fn new() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }

    /// Where `key` is: a scan comparing keys for equality (a handful of entries; no
    /// ordering code per key type).
    fn find<Q>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.entries.iter().position(|(k, _)| k.borrow() == key)
    }

    /// How many entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let i = self.find(key)?;
        self.entries.get(i).map(|(_, v)| v)
    }

    /// The value of `key`, for modification.
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let i = self.find(key)?;
        self.entries.get_mut(i).map(|(_, v)| v)
    }

    /// Whether `key` has a value.
    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.find(key).is_some()
    }

    /// Sets the value of `key`; returns the value it replaces.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Some(i) => self
                .entries
                .get_mut(i)
                .map(|(_, v)| core::mem::replace(v, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Adds `key`, which the caller knows is not in the map (no search, no replacement).
    pub(crate) fn push_new(&mut self, key: K, value: V) {
        debug_assert!(self.find(&key).is_none());
        self.entries.push((key, value));
    }

    /// Removes `key`; returns its value.
    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let i = self.find(key)?;
        Some(self.entries.remove(i).1)
    }

    /// Keeps the entries for which `keep` returns true.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// The entries in insertion order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The keys in insertion order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in insertion order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::string::String;
    use proptest::prelude::*;

    /// One operation on a map of small keys (so that they collide).
    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u16),
        Remove(u8),
        GetMut(u8, u16),
        Retain(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..16, any::<u16>()).prop_map(|(k, v)| Op::Insert(k, v)),
            (0u8..16).prop_map(Op::Remove),
            (0u8..16, any::<u16>()).prop_map(|(k, v)| Op::GetMut(k, v)),
            (1u8..4).prop_map(Op::Retain),
        ]
    }

    proptest! {
        /// Every operation gives the B-tree's results, and the contents stay the B-tree's
        /// after each step, in insertion order.
        #[test]
        fn vec_map_behaves_as_a_btree(ops in proptest::collection::vec(op(), 0..200)) {
            let (mut m, mut bm) = (VecMap::new(), BTreeMap::new());
            // The keys in the order they were first inserted (and not removed since).
            let mut order: alloc::vec::Vec<u8> = alloc::vec::Vec::new();
            for o in ops {
                match o {
                    Op::Insert(k, v) => {
                        prop_assert_eq!(m.insert(k, v), bm.insert(k, v));
                        if !order.contains(&k) {
                            order.push(k);
                        }
                    }
                    Op::Remove(k) => {
                        prop_assert_eq!(m.remove(&k), bm.remove(&k));
                        order.retain(|&o| o != k);
                    }
                    Op::GetMut(k, v) => {
                        if let Some(x) = m.get_mut(&k) {
                            *x = v;
                        }
                        if let Some(x) = bm.get_mut(&k) {
                            *x = v;
                        }
                    }
                    Op::Retain(d) => {
                        m.retain(|k, v| (*k % d == 0) != (*v % 2 == 0));
                        bm.retain(|k, v| (*k % d == 0) != (*v % 2 == 0));
                        order.retain(|k| bm.contains_key(k));
                    }
                }
                prop_assert!(m.keys().eq(order.iter()));
                let mut sorted: alloc::vec::Vec<(&u8, &u16)> = m.iter().collect();
                sorted.sort();
                prop_assert!(sorted.into_iter().eq(bm.iter()));
                prop_assert_eq!((m.len(), m.is_empty()), (bm.len(), bm.is_empty()));
                for k in 0u8..16 {
                    prop_assert_eq!(m.get(&k), bm.get(&k));
                    prop_assert_eq!(m.contains_key(&k), bm.contains_key(&k));
                }
            }
        }
    }

    #[test]
    fn borrowed_keys_find_owned_ones() {
        let mut m: VecMap<String, u32> = VecMap::default();
        m.insert(String::from("b"), 2);
        m.insert(String::from("a"), 1);
        assert_eq!(m.get("a"), Some(&1));
        assert_eq!(m.remove("b"), Some(2));
        assert!(m.keys().eq([String::from("a")].iter()));
        assert!(m.values().eq([1].iter()));
    }
}
