//! Crews in a manifest: which crew each doer is in (crews are numbered in
//! manifest order from 1; 0 is the part of the tree in no crew), and which
//! decks cross between crews.

use std::collections::{BTreeMap, BTreeSet};

use super::build::BuildError;
use super::reader::ManifestError;
use super::root::Manifest;
use super::tree::Node;
use hio_scheduler::Decks;

/// The crews that push to and pull from one deck.
#[derive(Debug, Default)]
struct Ends {
    push: BTreeSet<u32>,
    pull: BTreeSet<u32>,
}

fn visit(nodes: &[Node], crew: u32, crews: &mut u32, ends: &mut BTreeMap<String, Ends>) {
    for node in nodes {
        match node {
            Node::Leaf(leaf) => {
                for d in &leaf.grants.push {
                    ends.entry(d.clone()).or_default().push.insert(crew);
                }
                for d in &leaf.grants.pull {
                    ends.entry(d.clone()).or_default().pull.insert(crew);
                }
            }
            Node::Group(g) => {
                let inner = if g.crew {
                    *crews += 1;
                    *crews
                } else {
                    crew
                };
                visit(&g.doers, inner, crews, ends);
            }
        }
    }
}

/// Marks every deck whose doers are in more than one crew as a deck between
/// crews (delivered at the tick barrier). Such a deck is pulled from in one
/// crew only: pullers in two crews would race for its items.
pub(super) fn cross_decks(manifest: &Manifest, decks: &Decks) -> Result<(), BuildError> {
    let mut ends = BTreeMap::new();
    visit(&manifest.doers, 0, &mut 0, &mut ends);
    for (deck, ends) in ends {
        let all: BTreeSet<u32> = ends.push.union(&ends.pull).copied().collect();
        if all.len() < 2 {
            continue;
        }
        if ends.pull.len() > 1 {
            let crews: Vec<String> = ends.pull.iter().map(|c| crew_name(*c)).collect();
            return Err(BuildError::Manifest(ManifestError {
                file: manifest.path.clone(),
                line: 0,
                key: format!("decks.{deck}"),
                message: format!(
                    "deck {deck:?} is pulled from in {}: a deck between crews is pulled from in one crew only",
                    crews.join(" and ")
                ),
            }));
        }
        decks.cross(&deck, ends.push);
    }
    Ok(())
}

fn crew_name(crew: u32) -> String {
    match crew {
        0 => "no crew".to_owned(),
        n => format!("crew {n}"),
    }
}
