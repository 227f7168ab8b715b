//! Identicons: a deterministic 5×5 mirrored SVG avatar from a user id, identical on the server
//! and in the browser (pure function of the id, no randomness, no floating point).

use leptos::prelude::*;
use uuid::Uuid;

/// Which cells are filled (left three columns; the right two mirror them) and the hue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub hue: u16,
    pub cells: [[bool; 3]; 5],
}

/// FNV-1a over the id's bytes: cheap, stable across platforms and versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub fn pattern(id: &Uuid) -> Pattern {
    let hash = fnv1a(id.as_bytes());
    let mut cells = [[false; 3]; 5];
    for (i, cell) in cells.iter_mut().flatten().enumerate() {
        *cell = hash >> i & 1 == 1;
    }
    Pattern {
        hue: ((hash >> 20) % 360) as u16,
        cells,
    }
}

#[component]
pub fn Identicon(id: Uuid, #[prop(default = 32)] size: u32) -> impl IntoView {
    let Pattern { hue, cells } = pattern(&id);
    let fill = format!("hsl({hue}, 55%, 45%)");
    let background = format!("hsl({hue}, 40%, 92%)");
    let rects = cells
        .iter()
        .enumerate()
        .flat_map(|(y, row)| {
            row.iter()
                .enumerate()
                .filter(|(_, on)| **on)
                .flat_map(move |(x, _)| {
                    // Column x and its mirror 4 - x (the middle column mirrors onto itself).
                    let mirror = (x < 2).then_some(4 - x);
                    std::iter::once(x).chain(mirror).map(move |x| (x, y))
                })
        })
        .map(|(x, y)| view! { <rect x=x y=y width="1" height="1" fill=fill.clone() /> })
        .collect_view();
    view! {
        <svg
            class="parley-identicon"
            width=size
            height=size
            viewBox="0 0 5 5"
            shape-rendering="crispEdges"
            aria-hidden="true"
        >
            <rect width="5" height="5" fill=background />
            {rects}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_id_same_pattern_different_ids_differ() {
        let a = Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0);
        let b = Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def1);
        assert_eq!(pattern(&a), pattern(&a));
        assert_ne!(pattern(&a), pattern(&b));
        assert!(pattern(&a).hue < 360);
    }

    #[test]
    fn pattern_is_stable_across_releases() {
        // Avatars must not change under people's feet: the nil id's picture, pinned.
        let p = pattern(&Uuid::nil());
        assert_eq!(p.hue, 15);
        assert_eq!(
            p.cells,
            [
                [true, false, true],
                [false, false, true],
                [true, false, false],
                [false, true, false],
                [false, true, true],
            ]
        );
    }
}
