//! The demo scenario (`--demo`): a script that keeps the live demo busy with plausible events.
//!
//! Owns what the demo publishes and when. Every 2–3 s (a random interval in
//! [`DemoConfig`]'s range) one tick runs:
//!
//! - a `RecommendationReady` for a new job in the next region (round robin over
//!   [`REGIONS`]), to `dispatch:<region>`;
//! - a `JobAssigned` for the job that region was recommended on its previous tick, to
//!   `dispatch:<region>` and to `contractor:<contractorId>`;
//! - every third tick, a `ReceiveMessage` from the bot (`connectionId` [`BOT_ID`]) to
//!   `workflow:wf-demo`;
//! - the scenario's own changes ([`crate::scenario`]): every other tick a new obligations
//!   summary for every user it knows (pushed to `user:<userId>`, and pollable at once), and
//!   each tick one of the three stats in turn (sent on `/ws`, and pollable at once).
//!
//! Contractors are two per region: `contractor-1`/`-2` in north-america, `-3`/`-4` in europe,
//! `-5`/`-6` in asia-pacific. Everything goes out through the same hub paths as
//! `POST /control/publish`, so faults (such as doubled events) apply to it too. The script
//! holds only a weak handle on the scenario and stops when the app is gone.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

use hubwire::protocol::{HubMessage, RawJson};
use serde::Serialize;

use crate::hub::{Audience, Hub};
use crate::methods::{contractor_group, dispatch_group, workflow_group};
use crate::payloads::{ChatMessage, JobAssigned, RecommendationReady};
use crate::scenario::{Scenario, WeakScenario};
use crate::stamp::now_iso8601;

/// The dispatch regions the demo publishes to, in the order it visits them.
pub const REGIONS: [&str; 3] = ["north-america", "europe", "asia-pacific"];

/// The chat workflow the bot writes to.
pub const DEMO_WORKFLOW: &str = "wf-demo";

/// The `connectionId` of the bot's chat messages.
pub const BOT_ID: &str = "demo-bot";

/// What the bot says, in turn.
const BOT_LINES: [&str; 5] = [
    "Crew 4 is on site at the Harbour Street job.",
    "Reminder: safety briefing at 14:00.",
    "Parts for job 1007 arrived at the depot.",
    "Traffic on the ring road, expect delays north of the river.",
    "All caught up, thanks everyone!",
];

/// How often the demo acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoConfig {
    /// The shortest pause between two ticks.
    pub min_interval: Duration,
    /// The longest pause between two ticks.
    pub max_interval: Duration,
}

impl Default for DemoConfig {
    /// A tick every 2 to 3 seconds.
    fn default() -> Self {
        DemoConfig {
            min_interval: Duration::from_millis(2000),
            max_interval: Duration::from_millis(3000),
        }
    }
}

/// Runs the script until the scenario (and with it the app) is dropped.
pub async fn run(scenario: WeakScenario, config: DemoConfig) {
    let mut script = Script::new();
    loop {
        tokio::time::sleep(script.pause(&config)).await;
        let Some(scenario) = scenario.upgrade() else {
            return;
        };
        script.tick(&scenario);
    }
}

/// The demo's memory between ticks.
struct Script {
    random: Random,
    ticks: u64,
    next_job: u64,
    /// Per region, the job recommended on its last tick and not yet assigned.
    recommended: [Option<RecommendationReady>; 3],
}

impl Script {
    fn new() -> Self {
        Script {
            random: Random::new(),
            ticks: 0,
            next_job: 1001,
            recommended: [None, None, None],
        }
    }

    fn pause(&mut self, config: &DemoConfig) -> Duration {
        let spread = config.max_interval.saturating_sub(config.min_interval);
        let extra = self.random.below(spread.as_millis() as u64 + 1);
        config.min_interval + Duration::from_millis(extra)
    }

    fn tick(&mut self, scenario: &Scenario) {
        let hub = scenario.hub();
        let region_index = (self.ticks % REGIONS.len() as u64) as usize;
        let region = REGIONS[region_index];
        if let Some(job) = self.recommended[region_index].take() {
            let assigned = JobAssigned {
                job_id: job.job_id,
                region: region.to_string(),
                contractor_id: job.contractor_id,
                assigned_at: now_iso8601(),
            };
            publish(hub, &dispatch_group(region), "JobAssigned", &assigned);
            let contractor = contractor_group(&assigned.contractor_id);
            publish(hub, &contractor, "JobAssigned", &assigned);
        }
        let recommendation = RecommendationReady {
            job_id: format!("job-{}", self.next_job),
            region: region.to_string(),
            contractor_id: format!(
                "contractor-{}",
                region_index * 2 + 1 + self.random.below(2) as usize
            ),
            // 0.55 to 0.99, two decimals.
            score: (55 + self.random.below(45)) as f64 / 100.0,
            recommended_at: now_iso8601(),
        };
        self.next_job += 1;
        publish(
            hub,
            &dispatch_group(region),
            "RecommendationReady",
            &recommendation,
        );
        self.recommended[region_index] = Some(recommendation);

        if self.ticks % 3 == 2 {
            let line = BOT_LINES[(self.ticks / 3) as usize % BOT_LINES.len()];
            let message = ChatMessage {
                workflow_id: DEMO_WORKFLOW.to_string(),
                connection_id: BOT_ID.to_string(),
                text: line.to_string(),
                sent_at: now_iso8601(),
            };
            publish(
                hub,
                &workflow_group(DEMO_WORKFLOW),
                "ReceiveMessage",
                &message,
            );
        }
        if self.ticks % 2 == 1 {
            scenario.bump_known_obligations();
        }
        scenario.bump_stats_in_turn(self.ticks);
        self.ticks += 1;
    }
}

/// Sends one event with one argument to a group.
fn publish<T: Serialize>(hub: &Hub, group: &str, target: &str, payload: &T) {
    let event = HubMessage::Invocation {
        invocation_id: None,
        target: target.to_string(),
        arguments: RawJson::from_value(&[payload]).into(),
        stream_ids: Vec::new(),
    };
    hub.send_to(Audience::Group(group), &event);
}

/// A small xorshift generator seeded from the standard library's random hasher keys: plenty
/// for picking demo values, and no extra dependency.
struct Random(u64);

impl Random {
    fn new() -> Self {
        // `| 1`: xorshift must not start at zero.
        Random(RandomState::new().hash_one(0u64) | 1)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if bound == 0 {
            0
        } else {
            self.0 % bound
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_stay_within_the_configured_range() {
        let mut script = Script::new();
        let config = DemoConfig::default();
        for _ in 0..1000 {
            let pause = script.pause(&config);
            assert!(
                (config.min_interval..=config.max_interval).contains(&pause),
                "{pause:?}"
            );
        }
    }
}
