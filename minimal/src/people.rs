//! The host's people: a fixed list in code (no table, no sign-up), read by the sign-in page and
//! by the identity the chat asks. Depends on nothing.

/// One of the host's people. `id` is the host's own id, the chat's `external_id`.
#[derive(Debug, PartialEq, Eq)]
pub struct Person {
    pub id: &'static str,
    pub name: &'static str,
}

pub const PEOPLE: [Person; 3] = [
    Person {
        id: "ada",
        name: "Ada Lovelace",
    },
    Person {
        id: "grace",
        name: "Grace Hopper",
    },
    Person {
        id: "alan",
        name: "Alan Turing",
    },
];

pub fn find(id: &str) -> Option<&'static Person> {
    PEOPLE.iter().find(|person| person.id == id)
}
