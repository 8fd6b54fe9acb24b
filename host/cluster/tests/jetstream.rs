//! What the remote decks rely on, checked against a real nats-server with
//! async-nats as pinned: a message id makes a retried publish one message,
//! and a durable pull consumer resumes after what was acknowledged.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use hio_cluster::server::NatsServer;

#[tokio::test(flavor = "current_thread")]
async fn a_message_id_dedups_and_a_durable_consumer_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).unwrap();
    let client = async_nats::connect(server.url()).await.unwrap();
    let js = jetstream::new(client);
    let s = js
        .get_or_create_stream(stream::Config {
            name: "hio_deck_jobs".into(),
            subjects: vec!["hio.deck.jobs".into()],
            duplicate_window: Duration::from_secs(120),
            max_messages: 1000,
            discard: stream::DiscardPolicy::New,
            ..Default::default()
        })
        .await
        .unwrap();
    // The third is a retry of the second: the same id, one message.
    for (id, body, dup, seq) in [
        ("h1.jobs.1", "a", false, 1),
        ("h1.jobs.2", "b", false, 2),
        ("h1.jobs.2", "b", true, 2),
    ] {
        let ack = js
            .send_publish(
                "hio.deck.jobs",
                jetstream::message::PublishMessage::build()
                    .message_id(id)
                    .payload(body.into()),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert_eq!((ack.duplicate, ack.sequence), (dup, seq), "{id}");
    }
    let durable = consumer::pull::Config {
        durable_name: Some("h2-jobs".into()),
        ack_policy: consumer::AckPolicy::Explicit,
        ..Default::default()
    };
    let c = s
        .get_or_create_consumer("h2-jobs", durable.clone())
        .await
        .unwrap();
    let mut batch = c
        .fetch()
        .max_messages(1)
        .expires(Duration::from_millis(500))
        .messages()
        .await
        .unwrap();
    let first = batch.next().await.unwrap().unwrap();
    assert_eq!(&first.payload[..], b"a");
    first.ack().await.unwrap();
    drop(batch);
    // Another consumer of the same durable name (the host started again)
    // resumes after what was acknowledged.
    let again = s.get_or_create_consumer("h2-jobs", durable).await.unwrap();
    let mut batch = again
        .fetch()
        .max_messages(5)
        .expires(Duration::from_millis(500))
        .messages()
        .await
        .unwrap();
    let mut rest = Vec::new();
    while let Some(m) = batch.next().await {
        let m = m.unwrap();
        rest.push(String::from_utf8(m.payload.to_vec()).unwrap());
        m.ack().await.unwrap();
    }
    assert_eq!(rest, ["b"]);
}
