//! The DRF allocator's bookkeeping under a long random mix of operations: nothing is
//! lost or counted twice, and shares always match what frameworks hold.

use std::time::{Duration, Instant};

use mesos_master::allocator::{Allocator, AllocatorConfig};
use mesos_sdk::resources::{Resources, fit};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn r(spec: &str) -> Resources {
    Resources::parse(spec).unwrap()
}

const ROLES: [&str; 3] = ["r0", "r1", "r2"];
const FRAMEWORKS: [(&str, &[&str]); 5] = [
    ("f0", &["r0"]),
    ("f1", &["r0", "r1"]),
    ("f2", &["r1"]),
    ("f3", &["r2"]),
    ("f4", &["r1", "r2"]),
];

fn agent_spec(i: usize) -> String {
    match i % 3 {
        0 => "cpus:4;mem:4096;ports:[31000-31009]".to_owned(),
        1 => "cpus:2;mem:2048;cpus(r1):2;mem(r1):512".to_owned(),
        _ => format!("cpus:{};mem:1024;disk:100", 1 + i % 5),
    }
}

fn roles_of(fw: &str) -> Vec<String> {
    FRAMEWORKS
        .iter()
        .find(|(id, _)| *id == fw)
        .map(|(_, roles)| roles.iter().map(|s| (*s).to_owned()).collect())
        .unwrap()
}

struct World {
    alloc: Allocator,
    agents: Vec<(String, Resources)>,
    frameworks: Vec<&'static str>,
}

impl World {
    fn check(&self, step: usize) {
        let mut cluster = Resources::new();
        for (agent, total) in &self.agents {
            cluster += total;
            let mut seen = self.alloc.available(agent);
            for fw in &self.frameworks {
                seen += self.alloc.allocated_on(fw, agent).unallocate();
            }
            assert_eq!(&seen, total, "step {step}: agent {agent} lost or gained");
        }
        let share = |held: &Resources| {
            ["cpus", "mem", "disk"]
                .iter()
                .filter(|n| cluster.scalar(n) > 0.0)
                .map(|n| held.scalar(n) / cluster.scalar(n))
                .fold(0.0, f64::max)
        };
        let mut by_role = vec![Resources::new(); ROLES.len()];
        for fw in &self.frameworks {
            let held = self.alloc.allocated(fw);
            let got = self.alloc.dominant_share(fw);
            assert!((got - share(&held)).abs() < 1e-9, "step {step}: {fw} share");
            for res in held.iter() {
                let role = res.allocation_info.as_ref().and_then(|a| a.role.as_deref());
                let i = ROLES.iter().position(|r| Some(*r) == role).unwrap();
                by_role[i].push(res.clone());
            }
        }
        for (i, role) in ROLES.iter().enumerate() {
            let got = self.alloc.role_share(role);
            assert!(
                (got - share(&by_role[i])).abs() < 1e-9,
                "step {step}: role {role} share {got}"
            );
        }
    }
}

#[test]
fn random_operations_keep_holdings_and_shares_consistent() {
    let mut rng = SmallRng::seed_from_u64(2024);
    let now = Instant::now();
    let mut world = World {
        alloc: Allocator::with_config(AllocatorConfig::default().seed(5)),
        agents: Vec::new(),
        frameworks: Vec::new(),
    };
    for i in 0..9 {
        let (id, total) = (format!("a{i}"), r(&agent_spec(i)));
        world.alloc.add_agent(&id, total.clone());
        world.agents.push((id, total));
    }
    for (fw, roles) in FRAMEWORKS {
        world.alloc.add_framework(fw, &roles_of(fw));
        world.frameworks.push(fw);
        assert!(!roles.is_empty());
    }
    let task = r("cpus:1;mem:128");
    let mut offers_made = 0;
    for step in 0..400 {
        let t = now + Duration::from_secs(step);
        match rng.random_range(0..10) {
            0..=3 => {
                for o in world.alloc.allocate(t) {
                    offers_made += 1;
                    let rest = match rng.random_range(0..4) {
                        0 => continue,
                        1 => o.resources.clone(),
                        _ => match fit::first_fit(&o.resources, &task) {
                            Some(used) => &o.resources - &used,
                            None => o.resources.clone(),
                        },
                    };
                    let refuse = rng
                        .random_bool(0.3)
                        .then(|| Duration::from_secs(rng.random_range(1..5)));
                    world
                        .alloc
                        .recover(&o.framework_id, &o.agent_id, &rest, refuse, t);
                }
            }
            4 | 5 => {
                // A task ends, or a framework returns everything on an agent.
                let fw = world.frameworks[rng.random_range(0..world.frameworks.len())];
                let agent = world.agents[rng.random_range(0..world.agents.len())]
                    .0
                    .clone();
                let held = world.alloc.allocated_on(fw, &agent);
                let back = if rng.random_bool(0.5) {
                    held
                } else {
                    r("cpus:1")
                };
                world.alloc.recover(fw, &agent, &back, None, t);
            }
            6 => {
                let i = rng.random_range(0..world.agents.len());
                let (id, total) = world.agents.remove(i);
                world.alloc.remove_agent(&id);
                if rng.random_bool(0.7) {
                    world.alloc.add_agent(&id, total.clone());
                    world.agents.push((id, total));
                }
                if world.agents.is_empty() {
                    world.alloc.add_agent("fresh", r("cpus:3;mem:300"));
                    world.agents.push(("fresh".to_owned(), r("cpus:3;mem:300")));
                }
            }
            7 => {
                let i = rng.random_range(0..world.frameworks.len());
                let fw = world.frameworks[i];
                world.alloc.remove_framework(fw);
                world.frameworks.remove(i);
                assert!(world.alloc.allocated(fw).is_empty());
                assert_eq!(world.alloc.dominant_share(fw), 0.0);
                world.alloc.add_framework(fw, &roles_of(fw));
                world.frameworks.push(fw);
            }
            8 => {
                let fw = world.frameworks[rng.random_range(0..world.frameworks.len())];
                if rng.random_bool(0.5) {
                    world.alloc.suppress(fw, None);
                } else {
                    world.alloc.revive(fw, None);
                }
            }
            _ => {
                let fw = world.frameworks[rng.random_range(0..world.frameworks.len())];
                if rng.random_bool(0.5) {
                    world.alloc.deactivate_framework(fw);
                } else {
                    world.alloc.activate_framework(fw);
                }
            }
        }
        world.check(step as usize);
    }
    assert!(offers_made > 100, "only {offers_made} offers were made");
}
