//! The shapes of the objects the hub sends to clients as invocation arguments.
//!
//! Owns the field names and types of every event payload, so the hub, the tests and the demo
//! agree on one definition. All field names are camelCase on the wire, as an ASP.NET Core hub
//! with default JSON options would send them. Nothing here sends anything.
//!
//! `ReceiveMessage` is produced by the hub itself (`SendMessage`); `RecommendationReady` and
//! `JobAssigned` are published by tests and the demo through `POST /control/publish`.

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
