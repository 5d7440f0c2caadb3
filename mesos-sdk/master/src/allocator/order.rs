//! DRF orderings: lowest share first, then fewest allocations, then name.
//!
//! An [`Order`] is a sorted ring buffer of small [`Key`]s. A key names its client (a
//! role or a framework) by slot only; the name, needed to break ties, is looked up
//! through a function the caller passes, so that a key is `Copy` and moving one costs
//! no reference counting.
//!
//! The typical change in an allocation cycle is "the first client received something
//! and moves back": [`Order::replace`] leaves a key in place when it is still in order,
//! and otherwise removes it (free at the front of a ring buffer) and inserts it again
//! after a binary search, shifting whichever side of the buffer is shorter. When all
//! clients take turns (the common case) the key goes back near the end, so a move
//! shifts few keys.

use std::cmp::Ordering;
use std::collections::VecDeque;

/// A client's position in a DRF ordering.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Key {
    /// (Weighted) dominant share.
    share: f64,
    /// How many allocations the client has received.
    count: u64,
    /// The first 8 bytes of the client's name, big-endian and zero-padded: orders most
    /// names without comparing strings.
    prefix: u64,
    /// The role's or framework's slot in the book; its name breaks remaining ties.
    pub(crate) id: u32,
}

impl Key {
    /// The key of client `id` called `name`.
    pub(crate) fn new(share: f64, count: u64, name: &str, id: u32) -> Self {
        let mut head = [0u8; 8];
        let n = name.len().min(8);
        head[..n].copy_from_slice(&name.as_bytes()[..n]);
        Self {
            share,
            count,
            prefix: u64::from_be_bytes(head),
            id,
        }
    }

    /// The same client with another share and allocation count.
    pub(crate) fn with(self, share: f64, count: u64) -> Self {
        Self {
            share,
            count,
            ..self
        }
    }

    /// Compares two keys; `name` gives a client's name by slot (names are unique within
    /// one ordering, as slots are).
    #[inline]
    fn cmp<'n>(&self, other: &Self, name: &impl Fn(u32) -> &'n str) -> Ordering {
        // Equal prefixes say nothing (`"ab"` and `"ab\0"` pad alike): compare the names.
        self.share
            .total_cmp(&other.share)
            .then(self.count.cmp(&other.count))
            .then(self.prefix.cmp(&other.prefix))
            .then_with(|| {
                if self.id == other.id {
                    Ordering::Equal
                } else {
                    name(self.id).cmp(name(other.id))
                }
            })
    }
}

/// Keys in DRF order (see the [module docs](self)).
#[derive(Clone, Debug, Default)]
pub(crate) struct Order {
    keys: VecDeque<Key>,
}

impl Order {
    /// The keys, lowest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter()
    }

    /// Whether there are no keys.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Removes every key.
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
    }

    /// Where `key` is (it must be present).
    fn position<'n>(&self, key: &Key, name: &impl Fn(u32) -> &'n str) -> Option<usize> {
        // The front is the usual answer in an allocation cycle: try it first.
        if self.keys.front().is_some_and(|k| k.id == key.id) {
            return Some(0);
        }
        self.keys
            .binary_search_by(|k| k.cmp(key, name))
            .ok()
            .filter(|&i| self.keys[i].id == key.id)
    }

    /// Adds `key` at its place.
    pub(crate) fn insert<'n>(&mut self, key: Key, name: &impl Fn(u32) -> &'n str) {
        let at = self
            .keys
            .partition_point(|k| k.cmp(&key, name) == Ordering::Less);
        self.keys.insert(at, key);
    }

    /// Removes `key` (as it was inserted); returns whether it was there.
    pub(crate) fn remove<'n>(&mut self, key: &Key, name: &impl Fn(u32) -> &'n str) -> bool {
        match self.position(key, name) {
            Some(i) => {
                self.keys.remove(i);
                true
            }
            None => false,
        }
    }

    /// Moves a client from key `old` to key `new`; without `old` it joins the order,
    /// without `new` it leaves it.
    pub(crate) fn update<'n>(
        &mut self,
        old: Option<Key>,
        new: Option<Key>,
        name: &impl Fn(u32) -> &'n str,
    ) {
        match (old, new) {
            (Some(old), Some(new)) => self.replace(&old, new, name),
            (Some(old), None) => {
                self.remove(&old, name);
            }
            (None, Some(new)) => self.insert(new, name),
            (None, None) => {}
        }
    }

    /// Replaces `old` (as it was inserted) by `new` (the same client), moving it to its
    /// new place; inserts `new` if `old` was not there.
    pub(crate) fn replace<'n>(&mut self, old: &Key, new: Key, name: &impl Fn(u32) -> &'n str) {
        let Some(i) = self.position(old, name) else {
            self.insert(new, name);
            return;
        };
        let less = |a: &Key, b: &Key| a.cmp(b, name) == Ordering::Less;
        let after_prev = i == 0 || less(&self.keys[i - 1], &new);
        let before_next = self.keys.get(i + 1).is_none_or(|k| less(&new, k));
        if after_prev && before_next {
            self.keys[i] = new;
            return;
        }
        if i == 0 {
            self.keys.pop_front();
        } else {
            self.keys.remove(i);
        }
        // A client that received something usually goes last (clients take turns), one
        // that returned something first: try the ends before searching.
        if !before_next && self.keys.back().is_none_or(|k| less(k, &new)) {
            self.keys.push_back(new);
        } else if !after_prev && self.keys.front().is_none_or(|k| less(&new, k)) {
            self.keys.push_front(new);
        } else {
            self.insert(new, name);
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn cmp_named(a: (f64, u64, &str), b: (f64, u64, &str)) -> Ordering {
        let names = [a.2, b.2];
        let name = |id: u32| names[id as usize];
        Key::new(a.0, a.1, a.2, 0).cmp(&Key::new(b.0, b.1, b.2, 1), &name)
    }

    #[test]
    fn orders_by_share_then_count_then_name() {
        assert_eq!(cmp_named((0.1, 9, "z"), (0.2, 0, "a")), Ordering::Less);
        assert_eq!(cmp_named((0.1, 1, "z"), (0.1, 2, "a")), Ordering::Less);
        let names = [
            "",
            "a",
            "ab",
            "ab\0",
            "ab\0\0\0\0\0\0\0",
            "abcdefgh",
            "abcdefgh1",
            "abcdefgi",
            "b",
            "fw-0009",
            "fw-0010",
            "é",
        ];
        for a in names {
            for b in names {
                if a != b {
                    assert_eq!(cmp_named((0.0, 0, a), (0.0, 0, b)), a.cmp(b), "{a:?} {b:?}");
                }
            }
        }
    }

    /// The order as a naive sort of every client's current key would give it.
    fn naive(keys: &[Option<(f64, u64)>], names: &[String]) -> Vec<u32> {
        let mut ids: Vec<u32> = (0..keys.len() as u32)
            .filter(|&i| keys[i as usize].is_some())
            .collect();
        ids.sort_by(|&a, &b| {
            let (sa, ca) = keys[a as usize].unwrap();
            let (sb, cb) = keys[b as usize].unwrap();
            sa.total_cmp(&sb)
                .then(ca.cmp(&cb))
                .then_with(|| names[a as usize].cmp(&names[b as usize]))
        });
        ids
    }

    #[test]
    fn stays_equal_to_a_naive_sort_under_random_updates() {
        let mut rng = SmallRng::seed_from_u64(16);
        for round in 0..50 {
            let n = 1 + rng.random_range(0..40usize);
            // Names sharing long prefixes, so that ties reach the full names.
            let names: Vec<String> = (0..n)
                .map(|i| match i % 3 {
                    0 => format!("framework-{i}"),
                    1 => format!("fw-{i:04}"),
                    _ => format!("{}", (b'a' + (i % 26) as u8) as char),
                })
                .collect();
            let name = |id: u32| names[id as usize].as_str();
            let mut order = Order::default();
            let mut keys: Vec<Option<(f64, u64)>> = vec![None; n];
            for step in 0..400 {
                let id = rng.random_range(0..n);
                // Few distinct shares, so that ties on share and count are common.
                let share = f64::from(rng.random_range(0..4u32)) / 4.0;
                let count = rng.random_range(0..3u64);
                let key = |(s, c): (f64, u64)| Key::new(s, c, &names[id], id as u32);
                match (keys[id], rng.random_range(0..4)) {
                    (None, _) => {
                        order.insert(key((share, count)), &name);
                        keys[id] = Some((share, count));
                    }
                    (Some(old), 0) => {
                        assert!(order.remove(&key(old), &name));
                        assert!(!order.remove(&key(old), &name));
                        keys[id] = None;
                    }
                    (Some(old), 1) => {
                        // What an allocation does: the first client moves back.
                        let first = *order.iter().next().unwrap();
                        let i = first.id as usize;
                        let (s, c) = keys[i].unwrap();
                        let grown = (s + 0.25, c + 1);
                        order.replace(&first, first.with(grown.0, grown.1), &name);
                        keys[i] = Some(grown);
                        let _ = old;
                    }
                    (Some(old), _) => {
                        order.replace(&key(old), key((share, count)), &name);
                        keys[id] = Some((share, count));
                    }
                }
                let got: Vec<u32> = order.iter().map(|k| k.id).collect();
                assert_eq!(got, naive(&keys, &names), "round {round} step {step}");
            }
        }
    }
}
