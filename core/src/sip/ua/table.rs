//! The UA's call table: calls by handle, by SIP Call-ID, and by next timer, so that routing
//! an in-dialog request (RFC 3261 §12.2.2: Call-ID + tags) and finding due call timers cost
//! O(log n) in the number of calls instead of a scan (a gateway holds thousands of dialogs
//! in one UA) with the feature `btree-tables`; without it (the browser build) the same
//! indexes are sorted `Vec`s ([`super::map`]).
//!
//! Input: inserts, removals and mutable accesses of [`Call`]s. Output: lookups, the next
//! call timer, the calls whose timers are due. Every `get_mut` marks the call "dirty"; its
//! timer entry is recomputed by [`CallTable::reschedule`] (run by the UA after each input),
//! and until then [`CallTable::next_timer`] reads dirty calls directly, so the answer is
//! always exact.

use alloc::boxed::Box;
#[cfg(feature = "btree-tables")]
use alloc::string::String;
use alloc::vec::Vec;

use super::CallId;
use super::call::{Call, Want};
use super::map::Map;
#[cfg(feature = "btree-tables")]
use super::map::Set;
use crate::time::Instant;

/// Calls indexed by handle, Call-ID and next timer.
#[cfg(feature = "btree-tables")]
#[derive(Debug, Default)]
pub(crate) struct CallTable {
    /// Boxed: a B-tree leaf holds 11 values inline, and a `Call` is ~1.1 KB — a UA with one
    /// call would carry a 12 KB leaf (each gateway leg has its own UA).
    calls: Map<CallId, Box<Call>>,
    /// SIP Call-ID → the calls sharing it (one, or a few forks / a replaced call).
    by_call_id: Map<String, Vec<CallId>>,
    /// (deadline, call) of every clean call with a timer.
    timers: Set<(Instant, CallId)>,
    /// The deadline each call is filed under in `timers`.
    timer_of: Map<CallId, Instant>,
    /// Calls mutated since the last [`CallTable::reschedule`].
    dirty: Set<CallId>,
}

/// Read access, the same in both builds (each keeps its calls in `calls`).
impl CallTable {
    /// How many calls.
    pub(crate) fn len(&self) -> usize {
        self.calls.len()
    }

    /// The call `id`.
    pub(crate) fn get(&self, id: &CallId) -> Option<&Call> {
        self.calls.get(id).map(|c| &**c)
    }
}

#[cfg(feature = "btree-tables")]
impl CallTable {
    /// The call `id`, for modification (its timer is recomputed at the next reschedule).
    pub(crate) fn get_mut(&mut self, id: &CallId) -> Option<&mut Call> {
        let c = self.calls.get_mut(id)?;
        self.dirty.insert(*id);
        Some(&mut **c)
    }

    /// Adds (or replaces) call `id`.
    pub(crate) fn insert(&mut self, id: CallId, call: Box<Call>) {
        self.remove(&id);
        match self.by_call_id.get_mut(call.call_id()) {
            Some(ids) => ids.push(id),
            None => {
                self.by_call_id
                    .insert(String::from(call.call_id()), alloc::vec![id]);
            }
        }
        self.calls.insert(id, call);
        self.dirty.insert(id);
    }

    /// Removes call `id` from every index (boxed: not moved out to be dropped).
    pub(crate) fn remove(&mut self, id: &CallId) -> Option<Box<Call>> {
        let call = self.calls.remove(id)?;
        if let Some(ids) = self.by_call_id.get_mut(call.call_id()) {
            ids.retain(|i| i != id);
            if ids.is_empty() {
                self.by_call_id.remove(call.call_id());
            }
        }
        if let Some(t) = self.timer_of.remove(id) {
            self.timers.remove(&(t, *id));
        }
        self.dirty.remove(id);
        Some(call)
    }

    /// Every call (for the rare scans that have no key).
    pub(crate) fn values(&self) -> impl Iterator<Item = &Call> {
        self.calls.values().map(|c| &**c)
    }

    /// The calls whose SIP Call-ID is `call_id`.
    pub(crate) fn with_call_id<'a>(&'a self, call_id: &str) -> impl Iterator<Item = &'a Call> {
        self.by_call_id
            .get(call_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.calls.get(id).map(|c| &**c))
    }

    /// The first call with SIP Call-ID `call_id` (any call when `None`) that `want`
    /// describes, in ascending handle order.
    pub(crate) fn find(&self, call_id: Option<&str>, want: &Want<'_>) -> Option<CallId> {
        match call_id {
            Some(cid) => self.with_call_id(cid).find(|c| c.is(want)).map(|c| c.id),
            None => self.values().find(|c| c.is(want)).map(|c| c.id),
        }
    }

    /// Files the timers of the calls changed since the last call.
    pub(crate) fn reschedule(&mut self) {
        while let Some(id) = self.dirty.pop_first() {
            if let Some(t) = self.timer_of.remove(&id) {
                self.timers.remove(&(t, id));
            }
            if let Some(t) = self.calls.get(&id).and_then(|c| c.next_timer()) {
                self.timers.insert((t, id));
                self.timer_of.insert(id, t);
            }
        }
    }

    /// The earliest call timer.
    pub(crate) fn next_timer(&self) -> Option<Instant> {
        let filed = self.timers.first().map(|(t, _)| *t);
        let dirty = self
            .dirty
            .iter()
            .filter_map(|id| self.calls.get(id).and_then(|c| c.next_timer()));
        filed.into_iter().chain(dirty).min()
    }

    /// The calls with a timer due at `now` and their deadlines, earliest first.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<(Instant, CallId)> {
        self.reschedule();
        self.timers
            .iter()
            .take_while(|(t, _)| *t <= now)
            .copied()
            .collect()
    }
}

/// Calls by handle only (the browser build, without `btree-tables`): a browser UA holds a
/// handful of calls, so the Call-ID and timer lookups scan them; the answers are the
/// indexed table's (same order: calls by ascending handle, due timers earliest first).
#[cfg(not(feature = "btree-tables"))]
#[derive(Debug, Default)]
pub(crate) struct CallTable {
    calls: Map<CallId, Box<Call>>,
}

#[cfg(not(feature = "btree-tables"))]
impl CallTable {
    /// The call `id`, for modification.
    pub(crate) fn get_mut(&mut self, id: &CallId) -> Option<&mut Call> {
        self.calls.get_mut(id).map(|c| &mut **c)
    }

    /// Adds call `id`, a new handle (the UA hands handles out once, in ascending order:
    /// nothing to replace, so no search).
    pub(crate) fn insert(&mut self, id: CallId, call: Box<Call>) {
        self.calls.push_new(id, call);
    }

    /// Removes call `id` (boxed: not moved out to be dropped).
    pub(crate) fn remove(&mut self, id: &CallId) -> Option<Box<Call>> {
        self.calls.remove(id)
    }

    /// Every call.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Call> {
        self.calls.values().map(|c| &**c)
    }

    /// The calls whose SIP Call-ID is `call_id`.
    #[cfg(test)]
    pub(crate) fn with_call_id<'a>(&'a self, call_id: &'a str) -> impl Iterator<Item = &'a Call> {
        self.values().filter(move |c| c.call_id() == call_id)
    }

    /// The first call with SIP Call-ID `call_id` (any call when `None`) that `want`
    /// describes, in ascending handle order: one loop for every search (a generic iterator
    /// chain per caller was code per caller).
    pub(crate) fn find(&self, call_id: Option<&str>, want: &Want<'_>) -> Option<CallId> {
        for c in self.values() {
            if call_id.is_none_or(|cid| c.call_id() == cid) && c.is(want) {
                return Some(c.id);
            }
        }
        None
    }

    /// Nothing to file: timers are read from the calls.
    pub(crate) fn reschedule(&mut self) {}

    /// The earliest call timer.
    pub(crate) fn next_timer(&self) -> Option<Instant> {
        let mut min: Option<Instant> = None;
        for c in self.values() {
            min = super::earliest(&[min, c.next_timer()]);
        }
        min
    }

    /// The calls with a timer due at `now` and their deadlines, earliest first (ties by
    /// handle).
    pub(crate) fn due(&mut self, now: Instant) -> Vec<(Instant, CallId)> {
        let mut due: Vec<(Instant, CallId)> = Vec::new();
        for c in self.values() {
            if let Some(t) = c.next_timer()
                && t <= now
            {
                // After the entries due no later (a handful: a scan).
                let mut i = 0;
                while due.get(i).is_some_and(|&(u, _)| u <= t) {
                    i += 1;
                }
                due.insert(i, (t, c.id));
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::transaction::TxKey;
    use crate::sip::ua::msg::{Method, SipMsg};
    use alloc::sync::Arc;

    fn call(id: u64, call_id: &str, ring_until: u64) -> Box<Call> {
        let mut invite = SipMsg::request(Method::Invite, "sip:b@10.0.0.2");
        invite.push("Call-ID", call_id);
        Call::new(
            CallId(id),
            true,
            Arc::new(invite),
            TxKey::for_request("z9hG4bKx", Method::Invite),
            "10.0.0.2:5060".parse().unwrap(),
            Instant::from_millis(ring_until),
        )
    }

    #[test]
    fn indexes_follow_inserts_mutations_and_removals() {
        let mut t = CallTable::default();
        t.insert(CallId(1), call(1, "a", 500));
        t.insert(CallId(2), call(2, "a", 300));
        t.insert(CallId(3), call(3, "b", 900));
        assert_eq!(t.with_call_id("a").count(), 2);
        assert_eq!(t.next_timer(), Some(Instant::from_millis(300)));
        let due = |t: &mut CallTable, ms| -> Vec<CallId> {
            t.due(Instant::from_millis(ms))
                .iter()
                .map(|d| d.1)
                .collect()
        };
        assert_eq!(due(&mut t, 499), [CallId(2)]);
        // A mutation is seen before and after the reschedule.
        t.get_mut(&CallId(3)).unwrap().ext.ring_deadline = Some(Instant::from_millis(100));
        assert_eq!(t.next_timer(), Some(Instant::from_millis(100)));
        t.reschedule();
        assert_eq!(t.next_timer(), Some(Instant::from_millis(100)));
        assert_eq!(due(&mut t, 500), [CallId(3), CallId(2), CallId(1)]);
        assert!(t.remove(&CallId(3)).is_some());
        assert_eq!(t.with_call_id("b").count(), 0);
        #[cfg(feature = "btree-tables")]
        assert!(!t.by_call_id.contains_key("b"));
        assert_eq!(t.next_timer(), Some(Instant::from_millis(300)));
        t.remove(&CallId(2));
        t.remove(&CallId(1));
        assert_eq!((t.len(), t.next_timer()), (0, None));
        #[cfg(feature = "btree-tables")]
        assert!(t.timers.is_empty() && t.timer_of.is_empty() && t.by_call_id.is_empty());
    }
}
