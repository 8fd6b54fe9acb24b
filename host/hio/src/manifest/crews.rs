//! Crews in a manifest: which crew each doer is in (crews are numbered in
//! manifest order from 1; 0 is the part of the tree in no crew), and which
//! decks cross between crews.

use std::collections::{BTreeMap, BTreeSet};

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
pub(super) fn cross_decks(manifest: &Manifest, decks: &Decks) -> Result<(), ManifestError> {
    for (deck, ends) in crossing(manifest) {
        if ends.pull.len() > 1 {
            let crews: Vec<String> = ends.pull.iter().map(|c| crew_name(*c)).collect();
            return Err(ManifestError {
                file: manifest.path.clone(),
                line: 0,
                key: format!("decks.{deck}"),
                message: format!(
                    "deck {deck:?} is pulled from in {}: a deck between crews is pulled from in one crew only",
                    crews.join(" and ")
                ),
            });
        }
        decks.cross(&deck, ends.push);
    }
    Ok(())
}

/// The decks whose doers are in more than one crew, and their ends.
fn crossing(manifest: &Manifest) -> BTreeMap<String, Ends> {
    let mut ends = BTreeMap::new();
    visit(&manifest.doers, 0, &mut 0, &mut ends);
    ends.retain(|_, e: &mut Ends| e.push.union(&e.pull).nth(1).is_some());
    ends
}

impl Manifest {
    /// The decks between crews (delivered at the tick barrier), by name.
    pub fn decks_between_crews(&self) -> Vec<String> {
        crossing(self).into_keys().collect()
    }
}

fn crew_name(crew: u32) -> String {
    match crew {
        0 => "no crew".to_owned(),
        n => format!("crew {n}"),
    }
}

impl Manifest {
    /// The crews, by path, in the order they are numbered (crew 1 first).
    pub fn crews(&self) -> Vec<String> {
        fn walk(nodes: &[Node], prefix: &str, out: &mut Vec<String>) {
            for n in nodes {
                if let Node::Group(g) = n {
                    let path = format!("{prefix}{}", g.name);
                    if g.crew {
                        out.push(path.clone());
                    }
                    walk(&g.doers, &format!("{path}/"), out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.doers, "", &mut out);
        out
    }

    /// Each plugin doer's crew (0: none), by path.
    pub(super) fn leaf_crews(&self) -> BTreeMap<String, u32> {
        fn walk(
            nodes: &[Node],
            prefix: &str,
            crew: u32,
            crews: &mut u32,
            out: &mut BTreeMap<String, u32>,
        ) {
            for n in nodes {
                let path = format!("{prefix}{}", n.name());
                match n {
                    Node::Leaf(_) => {
                        out.insert(path, crew);
                    }
                    Node::Group(g) => {
                        let inner = if g.crew {
                            *crews += 1;
                            *crews
                        } else {
                            crew
                        };
                        walk(&g.doers, &format!("{path}/"), inner, crews, out);
                    }
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.doers, "", 0, &mut 0, &mut out);
        out
    }
}
