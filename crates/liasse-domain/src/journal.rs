//! The journal's canonical encoding and hash chain.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical bytes,
//! so changing, removing or reordering any entry breaks every hash after it. The canonical
//! encoding length-prefixes every field, so no two different entries encode the same way.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash that precedes the first entry of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `citizen`, `agent`, `manager`, `admin`, `service`, `operator` or `system`.
    pub kind: String,
    /// The account id, or empty for the system and the operator.
    pub id: String,
    /// A human label at the time of the action (login or display name), kept so the journal
    /// stays readable after the account is gone.
    pub label: String,
    /// The agent's service or the service client's name, empty otherwise.
    pub service: String,
}

impl Actor {
    pub fn system() -> Self {
        Actor {
            kind: "system".into(),
            id: String::new(),
            label: "Liasse".into(),
            service: String::new(),
        }
    }

    pub fn operator() -> Self {
        Actor {
            kind: "operator".into(),
            id: String::new(),
            label: "exploitant".into(),
            service: String::new(),
        }
    }
}

/// What an entry says, before it is placed in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEntry {
    pub actor: Actor,
    /// A stable verb such as `document.deposit` or `document.read`.
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    /// The citizen whose account or documents this touched, so their journal can list it.
    pub citizen_id: Option<String>,
    /// The basis that allowed the action: `owner`, `request`, `grant`, `deposit`, `admin`...
    pub basis_kind: String,
    pub basis_id: String,
    /// Non-confidential details as a JSON object (never document content or titles).
    pub details: serde_json::Value,
}

impl NewEntry {
    /// What `actor` did (`action`) to an object, about no citizen, on no named basis, with no
    /// details; the builder methods below say the rest.
    pub fn new(actor: Actor, action: &str, object_kind: &str, object_id: &str) -> NewEntry {
        NewEntry {
            actor,
            action: action.into(),
            object_kind: object_kind.into(),
            object_id: object_id.into(),
            citizen_id: None,
            basis_kind: String::new(),
            basis_id: String::new(),
            details: serde_json::json!({}),
        }
    }

    /// The citizen whose journal lists it.
    pub fn citizen(mut self, citizen_id: Option<String>) -> NewEntry {
        self.citizen_id = citizen_id;
        self
    }

    pub fn basis(mut self, kind: &str, id: &str) -> NewEntry {
        self.basis_kind = kind.into();
        self.basis_id = id.into();
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> NewEntry {
        self.details = details;
        self
    }
}

/// An entry as stored: placed in its tenant's chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub tenant_id: String,
    pub seq: i64,
    pub at: i64,
    pub entry: NewEntry,
    pub prev_hash: String,
    pub hash: String,
}

fn put(buf: &mut Vec<u8>, field: &[u8]) {
    buf.extend_from_slice(&(field.len() as u64).to_be_bytes());
    buf.extend_from_slice(field);
}

/// The bytes that the hash covers: every field of the entry except the hashes themselves.
pub fn canonical_bytes(tenant_id: &str, seq: i64, at: i64, e: &NewEntry) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    put(&mut buf, b"liasse-journal-v1");
    put(&mut buf, tenant_id.as_bytes());
    put(&mut buf, &seq.to_be_bytes());
    put(&mut buf, &at.to_be_bytes());
    put(&mut buf, e.actor.kind.as_bytes());
    put(&mut buf, e.actor.id.as_bytes());
    put(&mut buf, e.actor.label.as_bytes());
    put(&mut buf, e.actor.service.as_bytes());
    put(&mut buf, e.action.as_bytes());
    put(&mut buf, e.object_kind.as_bytes());
    put(&mut buf, e.object_id.as_bytes());
    match &e.citizen_id {
        Some(c) => {
            put(&mut buf, b"1");
            put(&mut buf, c.as_bytes());
        }
        None => put(&mut buf, b"0"),
    }
    put(&mut buf, e.basis_kind.as_bytes());
    put(&mut buf, e.basis_id.as_bytes());
    // serde_json writes object keys in sorted order (no `preserve_order` feature), so the
    // details serialise the same way every time they are read back.
    put(&mut buf, e.details.to_string().as_bytes());
    buf
}

/// The hash of an entry given the previous hash.
pub fn chain_hash(prev_hash: &str, canonical: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical);
    hex::encode(h.finalize())
}

impl Entry {
    /// Recomputes this entry's hash from its fields and the given previous hash.
    pub fn expected_hash(&self, prev_hash: &str) -> String {
        chain_hash(
            prev_hash,
            &canonical_bytes(&self.tenant_id, self.seq, self.at, &self.entry),
        )
    }
}

/// A fault found while walking a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainFault {
    pub tenant_id: String,
    pub seq: i64,
    pub problem: String,
}

/// Walks one tenant's chain in sequence order and reports every inconsistency; `head` is the
/// chain head recorded separately (last sequence and hash), which detects a removed tail.
pub struct ChainChecker {
    tenant_id: String,
    expected_seq: i64,
    prev_hash: String,
    pub faults: Vec<ChainFault>,
}

impl ChainChecker {
    pub fn new(tenant_id: &str) -> Self {
        ChainChecker {
            tenant_id: tenant_id.to_string(),
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            faults: Vec::new(),
        }
    }

    fn fault(&mut self, seq: i64, problem: String) {
        self.faults.push(ChainFault {
            tenant_id: self.tenant_id.clone(),
            seq,
            problem,
        });
    }

    pub fn check(&mut self, e: &Entry) {
        if e.seq != self.expected_seq {
            self.fault(
                e.seq,
                format!(
                    "sequence {} where {} was expected",
                    e.seq, self.expected_seq
                ),
            );
        }
        if e.prev_hash != self.prev_hash {
            self.fault(e.seq, "previous hash does not match the chain".into());
        }
        let expected = e.expected_hash(&self.prev_hash);
        if e.hash != expected {
            self.fault(e.seq, "hash does not match the entry's content".into());
        }
        // Continue from the stored hash so that one altered entry is reported once, not as a
        // cascade over the rest of the chain.
        self.prev_hash = e.hash.clone();
        self.expected_seq = e.seq + 1;
    }

    pub fn finish(mut self, head: Option<(i64, String)>) -> Vec<ChainFault> {
        let last = self.expected_seq - 1;
        match head {
            Some((seq, hash)) if seq != last || hash != self.prev_hash => {
                self.fault(
                    seq,
                    format!("chain head says entry {seq} but the chain ends at {last}"),
                );
            }
            Some(_) => {}
            None if last > 0 => self.fault(last, "chain has entries but no head".into()),
            None => {}
        }
        self.faults
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(seq: i64, prev: &str) -> Entry {
        let ne = NewEntry::new(Actor::system(), "test", "doc", &format!("d{seq}"))
            .basis("owner", "")
            .details(serde_json::json!({"b": 1, "a": 2}));
        let hash = chain_hash(prev, &canonical_bytes("t", seq, 1000 + seq, &ne));
        Entry {
            tenant_id: "t".into(),
            seq,
            at: 1000 + seq,
            entry: ne,
            prev_hash: prev.into(),
            hash,
        }
    }

    fn chain(n: i64) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for s in 1..=n {
            let prev = out
                .last()
                .map_or(GENESIS_HASH.to_string(), |e| e.hash.clone());
            out.push(entry(s, &prev));
        }
        out
    }

    fn faults(entries: &[Entry], head: Option<(i64, String)>) -> usize {
        let mut c = ChainChecker::new("t");
        entries.iter().for_each(|e| c.check(e));
        c.finish(head).len()
    }

    #[test]
    fn intact_chain_is_clean() {
        let c = chain(5);
        let head = Some((5, c[4].hash.clone()));
        assert_eq!(faults(&c, head), 0);
    }

    #[test]
    fn any_field_change_is_detected() {
        let base = chain(3);
        let head = Some((3, base[2].hash.clone()));
        type Mutation = Box<dyn Fn(&mut Entry)>;
        let mutations: Vec<Mutation> = vec![
            Box::new(|e| e.at += 1),
            Box::new(|e| e.entry.actor.label.push('x')),
            Box::new(|e| e.entry.actor.id.push('x')),
            Box::new(|e| e.entry.actor.kind.push('x')),
            Box::new(|e| e.entry.actor.service.push('x')),
            Box::new(|e| e.entry.action.push('x')),
            Box::new(|e| e.entry.object_kind.push('x')),
            Box::new(|e| e.entry.object_id.push('x')),
            Box::new(|e| e.entry.citizen_id = Some("c".into())),
            Box::new(|e| e.entry.basis_kind.push('x')),
            Box::new(|e| e.entry.basis_id.push('x')),
            Box::new(|e| e.entry.details = serde_json::json!({"a": 3})),
            Box::new(|e| e.tenant_id.push('x')),
        ];
        for m in mutations {
            let mut c = base.clone();
            m(&mut c[1]);
            assert!(faults(&c, head.clone()) > 0);
        }
    }

    #[test]
    fn removed_tail_and_removed_middle_are_detected() {
        let c = chain(4);
        let head = Some((4, c[3].hash.clone()));
        assert!(faults(&c[..3], head.clone()) > 0);
        let mut gap = c.clone();
        gap.remove(1);
        assert!(faults(&gap, head) > 0);
    }
}
