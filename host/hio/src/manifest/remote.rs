//! Remote decks in a run: the `[cluster]` connection made when the run is
//! built, and each `remote = true` deck kept in its stream.

use std::sync::Arc;

use hio_cluster::{Cluster, RemoteDeck, RemoteError};
use hio_scheduler::{DeckError, Decks, RemoteEnd};

use super::root::Manifest;
use super::tree::Node;

/// A deck kept in the cluster, as the run's decks see it.
#[derive(Debug)]
struct Remote {
    deck: RemoteDeck,
    // After the deck: the cluster's thread ends once every deck is gone.
    _cluster: Arc<Cluster>,
}

impl RemoteEnd for Remote {
    fn push(&self, item: Vec<u8>) -> Result<(), DeckError> {
        self.deck.push(item).map_err(|e| match e {
            RemoteError::TooLarge => DeckError::TooLarge,
            // The doer sees back pressure while the server is away.
            RemoteError::Full | RemoteError::Unreachable(_) => DeckError::Full,
        })
    }

    fn front_len(&self) -> Option<usize> {
        self.deck.front_len()
    }

    fn pull(&self) -> Option<Vec<u8>> {
        self.deck.pull().ok().flatten()
    }

    fn len(&self) -> usize {
        self.deck.fetched()
    }

    fn down(&self) -> Option<String> {
        self.deck.down()
    }
}

/// Whether any doer of `nodes` may pull from `deck`.
fn pulled(nodes: &[Node], deck: &str) -> bool {
    nodes.iter().any(|n| match n {
        Node::Leaf(l) => l.grants.pull.contains(deck),
        Node::Group(g) => g.grants.pull.contains(deck) || pulled(&g.doers, deck),
    })
}

/// Connects to the manifest's cluster and keeps its remote decks there;
/// nothing without a `[cluster]`.
pub(super) fn attach(manifest: &Manifest, decks: &Decks) -> Result<(), String> {
    let Some(c) = &manifest.cluster else {
        return Ok(());
    };
    if manifest.remote_decks.is_empty() {
        return Ok(());
    }
    let cluster = Arc::new(Cluster::connect(c.link(None))?);
    for spec in manifest
        .decks
        .iter()
        .filter(|d| manifest.remote_decks.contains(&d.name))
    {
        let deck = cluster.deck(
            &spec.name,
            spec.capacity as u64,
            spec.max_item,
            pulled(&manifest.doers, &spec.name),
        )?;
        decks.attach_remote(
            &spec.name,
            Arc::new(Remote {
                deck,
                _cluster: Arc::clone(&cluster),
            }),
        );
    }
    Ok(())
}
