//! The shapes of the objects the hub sends to clients as invocation arguments.
//!
//! Owns the field names and types of every event payload, so the hub, the tests and the demo
//! agree on one definition. All field names are camelCase on the wire, as an ASP.NET Core hub
//! with default JSON options would send them. Nothing here sends anything.
//!
//! `ReceiveMessage` is produced by the hub itself (`SendMessage`); `RecommendationReady` and
//! `JobAssigned` are published by tests and the demo through `POST /control/publish`;
//! `LongTermObligationsUpdated` carries an [`ObligationsSummary`], pushed by the scenario to
//! `user:<userId>` whenever that user's summary changes (the same object
//! `GET /api/obligations/<userId>` answers). The stats payloads travel on the plain `/ws`
//! WebSocket as [`StatsMessage`]s, not over SignalR.

use serde::{Deserialize, Serialize};

/// Argument of `ReceiveMessage`: one chat line sent to a workflow group.
///
/// `{ workflowId, connectionId, text, sentAt }`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// The workflow the message was sent to (the group is `workflow:<workflowId>`).
    pub workflow_id: String,
    /// The connection that sent it.
    pub connection_id: String,
    /// What the sender wrote.
    pub text: String,
    /// When the hub received it, ISO 8601 UTC.
    pub sent_at: String,
}

/// Argument of `RecommendationReady`: a contractor was recommended for a job.
///
/// `{ jobId, region, contractorId, score, recommendedAt }`, usually published to the group
/// `dispatch:<region>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecommendationReady {
    /// The job the recommendation is for.
    pub job_id: String,
    /// The dispatch region of the job.
    pub region: String,
    /// The recommended contractor.
    pub contractor_id: String,
    /// How good the match is, 0.0 to 1.0.
    pub score: f64,
    /// When the recommendation was made, ISO 8601 UTC.
    pub recommended_at: String,
}

/// Argument of `JobAssigned`: a job was given to a contractor.
///
/// `{ jobId, region, contractorId, assignedAt }`, usually published to `dispatch:<region>` and
/// `contractor:<contractorId>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobAssigned {
    /// The job that was assigned.
    pub job_id: String,
    /// The dispatch region of the job.
    pub region: String,
    /// The contractor who got it.
    pub contractor_id: String,
    /// When it was assigned, ISO 8601 UTC.
    pub assigned_at: String,
}

/// Argument of `LongTermObligationsUpdated`, and the body of `GET /api/obligations/<userId>`.
///
/// `{ userId, obligationsSummary: { open, overdue, dueThisWeek }, nextDueDate, totalEstimate,
/// updatedAt }`. `updatedAt` grows with every change of the user's summary, so it can serve as
/// a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObligationsSummary {
    /// Whose obligations these are (the group is `user:<userId>`).
    pub user_id: String,
    /// Counts of the user's long-term obligations.
    pub obligations_summary: ObligationCounts,
    /// The next due date, `YYYY-MM-DD`.
    pub next_due_date: String,
    /// The estimated total of the open obligations, in currency units.
    pub total_estimate: f64,
    /// When the summary last changed, ISO 8601 UTC.
    pub updated_at: String,
}

/// The counts inside an [`ObligationsSummary`]: `{ open, overdue, dueThisWeek }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObligationCounts {
    /// Obligations not yet met.
    pub open: u32,
    /// Of those, past their due date.
    pub overdue: u32,
    /// Of those, due within seven days.
    pub due_this_week: u32,
}

/// One message of the plain `/ws` stats socket: `{ "type": "stats:tasks", "payload": {...} }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsMessage<T> {
    /// `stats:tasks`, `stats:approvals` or `stats:conversations`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The stats: [`TaskStats`], [`ApprovalStats`] or [`ConversationStats`].
    pub payload: T,
}

/// Payload of `stats:tasks`: `{ open, completedToday, overdue, updatedAt }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskStats {
    /// Tasks not done.
    pub open: u32,
    /// Tasks done today.
    pub completed_today: u32,
    /// Open tasks past their due date.
    pub overdue: u32,
    /// When these stats last changed, ISO 8601 UTC.
    pub updated_at: String,
}

/// Payload of `stats:approvals`: `{ pending, approvedToday, rejectedToday, updatedAt }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalStats {
    /// Approvals waiting for a decision.
    pub pending: u32,
    /// Approved today.
    pub approved_today: u32,
    /// Rejected today.
    pub rejected_today: u32,
    /// When these stats last changed, ISO 8601 UTC.
    pub updated_at: String,
}

/// Payload of `stats:conversations`: `{ active, unread, updatedAt }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConversationStats {
    /// Conversations with activity today.
    pub active: u32,
    /// Unread messages.
    pub unread: u32,
    /// When these stats last changed, ISO 8601 UTC.
    pub updated_at: String,
}
