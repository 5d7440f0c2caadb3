//! The books driven directly with explicit instants: timing rules without sockets or
//! sleeps.

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::time::{Duration, Instant};

use super::Core;
use crate::agent::protocol::ToAgent;
use crate::config::MasterConfig;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Call, Event, call, event};

fn core(config: MasterConfig) -> (Core, UnboundedReceiver<ToAgent>) {
    let mut core = Core::new(
        config,
        v1::MasterInfo {
            id: "m".into(),
            ..Default::default()
        },
    );
    let (tx, rx) = unbounded_channel();
    core.add_agent(
        v1::AgentInfo {
            hostname: "h".into(),
            resources: mesos_sdk::resources::Resources::parse("cpus:4;mem:1024")
                .unwrap()
                .into_vec(),
            id: Some(v1::AgentId { value: "a1".into() }),
            ..Default::default()
        },
        tx,
    );
    (core, rx)
}

fn subscribe(
    core: &mut Core,
    failover: f64,
    now: Instant,
) -> (String, String, UnboundedReceiver<Event>) {
    let sub = core.subscribe(
        call::Subscribe {
            framework_info: v1::FrameworkInfo {
                user: "u".into(),
                name: "f".into(),
                failover_timeout: Some(failover),
                ..Default::default()
            },
            ..Default::default()
        },
        now,
    );
    (sub.framework_id, sub.stream_id, sub.events)
}

fn offers(rx: &mut UnboundedReceiver<Event>) -> Vec<v1::Offer> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let Some(o) = e.offers {
            out.extend(o.offers);
        }
    }
    out
}

fn decline(core: &mut Core, fw: &str, offer: &v1::Offer, refuse: Option<f64>, now: Instant) {
    let call = Call {
        framework_id: Some(v1::FrameworkId { value: fw.into() }),
        r#type: Some(call::Type::Decline as i32),
        decline: Some(call::Decline {
            offer_ids: vec![offer.id.clone()],
            filters: refuse.map(|r| v1::Filters {
                refuse_seconds: Some(r),
            }),
        }),
        ..Default::default()
    };
    core.handle_call(fw, call, now).unwrap();
}

#[test]
fn framework_ids_count_up_from_the_master_id() {
    let (mut c, _agent) = core(MasterConfig::default());
    let now = Instant::now();
    assert_eq!(subscribe(&mut c, 0.0, now).0, "m-0000");
    assert_eq!(subscribe(&mut c, 0.0, now).0, "m-0001");
}

#[test]
fn a_decline_without_filters_refuses_the_agent_for_five_seconds() {
    let (mut c, _agent) = core(MasterConfig::default());
    let t0 = Instant::now();
    let (fw, _, mut rx) = subscribe(&mut c, 0.0, t0);
    c.tick(t0, true);
    let offer = offers(&mut rx).remove(0);
    assert_eq!(offer.resources.len(), 2);
    decline(&mut c, &fw, &offer, None, t0);
    c.tick(t0 + Duration::from_millis(4900), true);
    assert!(offers(&mut rx).is_empty(), "filtered for 5 s");
    c.tick(t0 + Duration::from_millis(5001), true);
    assert_eq!(offers(&mut rx).len(), 1);
}

#[test]
fn offers_past_the_offer_timeout_are_rescinded_and_offered_again() {
    let (mut c, _agent) = core(MasterConfig {
        offer_timeout: Some(Duration::from_secs(10)),
        ..MasterConfig::default()
    });
    let t0 = Instant::now();
    let (_, _, mut rx) = subscribe(&mut c, 0.0, t0);
    c.tick(t0, true);
    let first = offers(&mut rx).remove(0);
    assert_eq!(c.next_deadline(), Some(t0 + Duration::from_secs(10)));
    c.tick(t0 + Duration::from_secs(10), true);
    let events: Vec<Event> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert!(
        events
            .iter()
            .any(|e| e.rescind.as_ref().is_some_and(|r| r.offer_id == first.id))
    );
    assert!(
        events
            .iter()
            .any(|e| e.r#type == Some(event::Type::Offers as i32))
    );
}

#[test]
fn failover_timeout_is_honoured_to_the_instant() {
    let (mut c, mut agent) = core(MasterConfig::default());
    let t0 = Instant::now();
    let (fw, stream, _rx) = subscribe(&mut c, 30.0, t0);
    c.stream_closed(&fw, &stream, t0);
    assert_eq!(c.next_deadline(), Some(t0 + Duration::from_secs(30)));
    c.tick(t0 + Duration::from_millis(29_999), false);
    assert!(c.frameworks.contains_key(&fw));
    c.tick(t0 + Duration::from_secs(30), false);
    assert!(!c.frameworks.contains_key(&fw));
    // The agent is told only if the framework had work there.
    assert!(agent.try_recv().is_err());
}

#[test]
fn a_closed_agent_channel_removes_the_agent_and_rescinds_its_offers() {
    let (mut c, agent) = core(MasterConfig::default());
    let t0 = Instant::now();
    let (_fw, _, mut rx) = subscribe(&mut c, 0.0, t0);
    c.tick(t0, true);
    assert_eq!(offers(&mut rx).len(), 1);
    drop(agent);
    c.tick(t0, false);
    assert!(c.agents.is_empty());
    let events: Vec<Event> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert!(
        events
            .iter()
            .any(|e| e.r#type == Some(event::Type::Rescind as i32))
    );
    assert!(
        events
            .iter()
            .any(|e| e.r#type == Some(event::Type::Failure as i32))
    );
}

fn launch(core: &mut Core, fw: &str, offer: &v1::Offer, task: &str, spec: &str, now: Instant) {
    let task = mesos_sdk::calls::task_info(task, task, offer.agent_id.clone())
        .shell("true")
        .resources(
            mesos_sdk::resources::Resources::parse(spec)
                .unwrap()
                .into_vec(),
        )
        .build();
    let call = mesos_sdk::calls::scheduler::accept(
        &v1::FrameworkId { value: fw.into() },
        vec![offer.id.clone()],
        vec![mesos_sdk::calls::operations::launch(vec![task])],
        Some(mesos_sdk::calls::filters(3600.0)),
    );
    core.handle_call(fw, call, now).unwrap();
}

fn finish(core: &mut Core, fw: &str, task: &str, now: Instant) {
    core.on_agent_event(
        "a1",
        crate::agent::protocol::FromAgent::StatusUpdate {
            framework_id: v1::FrameworkId { value: fw.into() },
            status: v1::TaskStatus {
                task_id: v1::TaskId { value: task.into() },
                state: v1::TaskState::TaskFinished as i32,
                ..Default::default()
            },
        },
        now,
    );
}

#[test]
fn a_refused_remainder_is_offered_again_once_a_task_frees_more() {
    let (mut c, mut agent) = core(MasterConfig::default());
    let t0 = Instant::now();
    let (fw, _, mut rx) = subscribe(&mut c, 0.0, t0);
    c.tick(t0, true);
    let offer = offers(&mut rx).remove(0);
    launch(&mut c, &fw, &offer, "t1", "cpus:1;mem:128", t0);
    assert!(matches!(agent.try_recv(), Ok(ToAgent::RunTask { .. })));
    // The unused cpus:3;mem:896 is refused for an hour: not offered again...
    c.tick(t0 + Duration::from_secs(1), true);
    assert!(offers(&mut rx).is_empty());
    assert_eq!(c.dominant_share(&fw), 0.25);
    // ...until the task ends: then everything (more than was refused) is offered.
    finish(&mut c, &fw, "t1", t0 + Duration::from_secs(2));
    c.tick(t0 + Duration::from_secs(2), true);
    let again = offers(&mut rx);
    assert_eq!(again.len(), 1);
    let offered = mesos_sdk::resources::Resources::from(again[0].resources.clone());
    assert_eq!((offered.cpus(), offered.mem()), (4.0, 1024.0));
    assert_eq!(c.dominant_share(&fw), 1.0);
}

#[test]
fn state_reports_used_offered_and_free_from_the_allocator() {
    let (mut c, _agent) = core(MasterConfig::default());
    let t0 = Instant::now();
    let (fw, _, mut rx) = subscribe(&mut c, 0.0, t0);
    c.tick(t0, true);
    let offer = offers(&mut rx).remove(0);
    launch(&mut c, &fw, &offer, "t1", "cpus:1;mem:256", t0);
    let state = c.snapshot();
    let agent = &state.slaves[0];
    assert_eq!(
        (agent.used_resources.cpus, agent.used_resources.mem),
        (1.0, 256.0)
    );
    assert_eq!(agent.offered_resources.cpus, 0.0);
    assert_eq!(agent.unreserved_resources.cpus, 3.0);
    let f = state.framework(&fw).unwrap();
    assert_eq!(f.used_resources.cpus, 1.0);
    assert_eq!(f.dominant_share, 0.25);
}
