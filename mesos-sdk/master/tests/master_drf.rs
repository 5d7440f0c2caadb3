//! The DRF paper's example through real offers, HTTP and agents: cluster <9 CPU, 18 GB>;
//! framework A runs tasks of <1 CPU, 4 GB>, B of <3 CPU, 1 GB>; each launches one task
//! per offer and declines the rest. DRF ends with A running 3 tasks and B 2.

mod support;

use std::time::Duration;

use mesos_master::LocalCluster;
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::call;
use support::scheduler::*;
use support::*;

/// Takes one task per offer while it fits, declining the rest without a filter.
async fn run(s: &mut Subscriber, prefix: &str, cpus: f64, mem: f64, launched: &mut usize) -> bool {
    let offer = s.offers().await.remove(0);
    let have = |name: &str| -> f64 {
        offer
            .resources
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| r.scalar.map(|x| x.value))
            .sum()
    };
    let fits = have("cpus") + 1e-9 >= cpus && have("mem") + 1e-9 >= mem;
    let mut accept = s.call(call::Type::Accept);
    let mut operations = Vec::new();
    if fits {
        let mut task = command_task(&format!("{prefix}-{launched}"), &offer, "sleep 30");
        task.resources = vec![scalar("cpus", cpus), scalar("mem", mem)];
        operations.push(v1::offer::Operation {
            r#type: Some(v1::offer::operation::Type::Launch as i32),
            launch: Some(v1::offer::operation::Launch {
                task_infos: vec![task],
            }),
            ..Default::default()
        });
        *launched += 1;
    }
    accept.accept = Some(call::Accept {
        offer_ids: vec![offer.id.clone()],
        operations,
        // Without a filter the rest is offered again at once, to whoever DRF picks.
        filters: Some(v1::Filters {
            refuse_seconds: Some(if fits { 0.0 } else { 3600.0 }),
        }),
    });
    s.send_ok(&accept, 202).await;
    fits
}

#[tokio::test]
async fn drf_paper_example_through_real_offers() {
    let c = LocalCluster::builder()
        .agents(1)
        .resources("cpus:9;mem:18432")
        .allocation_interval(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let mut a = subscribe(&c.url(), Encoding::Protobuf, framework_info("A")).await;
    let mut b = subscribe(&c.url(), Encoding::Json, framework_info("B")).await;
    let (mut launched_a, mut launched_b) = (0, 0);
    let (mut a_full, mut b_full) = (false, false);
    // Offers alternate as DRF decides; serve whichever framework gets one.
    while !(a_full && b_full) {
        tokio::select! {
            event = a.events.recv(), if !a_full => {
                let event = event.expect("A's stream open");
                if let Some(offers) = event.offers {
                    a.put_back(offers);
                    a_full = !run(&mut a, "a", 1.0, 4096.0, &mut launched_a).await;
                }
            }
            event = b.events.recv(), if !b_full => {
                let event = event.expect("B's stream open");
                if let Some(offers) = event.offers {
                    b.put_back(offers);
                    b_full = !run(&mut b, "b", 3.0, 1024.0, &mut launched_b).await;
                }
            }
            _ = tokio::time::sleep(WAIT) => panic!("no offers within {WAIT:?} (A {launched_a}, B {launched_b})"),
        }
    }
    assert_eq!((launched_a, launched_b), (3, 2));
    let state = c.state();
    assert_eq!(
        state.framework(&a.framework_id.value).unwrap().tasks.len(),
        3
    );
    assert_eq!(
        state.framework(&b.framework_id.value).unwrap().tasks.len(),
        2
    );
    c.shutdown().await;
}

#[tokio::test]
async fn a_role_weight_of_two_doubles_the_fair_share() {
    let c = LocalCluster::builder()
        .agents(1)
        .resources("cpus:6;mem:8192")
        .role_weight("gold", 2.0)
        .allocation_interval(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    // Roles need the MULTI_ROLE capability, as in Mesos.
    let multi_role = vec![v1::framework_info::Capability {
        r#type: Some(v1::framework_info::capability::Type::MultiRole as i32),
    }];
    let mut gold_info = framework_info("gold");
    gold_info.roles = vec!["gold".into()];
    gold_info.capabilities = multi_role.clone();
    let mut plain_info = framework_info("plain");
    plain_info.roles = vec!["plain".into()];
    plain_info.capabilities = multi_role;
    let mut gold = subscribe(&c.url(), Encoding::Protobuf, gold_info).await;
    let mut plain = subscribe(&c.url(), Encoding::Protobuf, plain_info).await;
    let (mut launched_gold, mut launched_plain) = (0, 0);
    let (mut gold_full, mut plain_full) = (false, false);
    while !(gold_full && plain_full) {
        tokio::select! {
            event = gold.events.recv(), if !gold_full => {
                if let Some(offers) = event.expect("stream open").offers {
                    gold.put_back(offers);
                    gold_full = !run(&mut gold, "g", 1.0, 1024.0, &mut launched_gold).await;
                }
            }
            event = plain.events.recv(), if !plain_full => {
                if let Some(offers) = event.expect("stream open").offers {
                    plain.put_back(offers);
                    plain_full = !run(&mut plain, "p", 1.0, 1024.0, &mut launched_plain).await;
                }
            }
            _ = tokio::time::sleep(WAIT) => panic!("no offers within {WAIT:?}"),
        }
    }
    assert_eq!((launched_gold, launched_plain), (4, 2));
    c.shutdown().await;
}
