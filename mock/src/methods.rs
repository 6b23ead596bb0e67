//! The hub methods clients can call, and how their arguments are bound.
//!
//! Owns the method table, argument checking, group naming and what each method does. Names are
//! matched case-insensitively, as ASP.NET Core does. Error texts follow an ASP.NET Core hub
//! with detailed errors on, so clients see the messages they would see from a real server.
//! This module does not read or write the wire: it gets parsed arguments and returns a
//! [`Completion`]; the session sends it.
//!
//! | Method | Arguments | Effect | Result |
//! | --- | --- | --- | --- |
//! | `Echo` | any value | | the value |
//! | `Fail` | message (string) | | error: `An unexpected error occurred invoking 'Fail' on the server. HubException: <message>` |
//! | `JoinWorkflow` / `LeaveWorkflow` | id (string) | joins / leaves `workflow:<id>` | null |
//! | `SendMessage` | text (string) | `ReceiveMessage` with a [`ChatMessage`] to each `workflow:*` group of the caller | null |
//! | `JoinDispatchGroup` / `LeaveDispatchGroup` | region (string) | joins / leaves `dispatch:<region>` | null |
//! | `JoinContractorGroup` / `LeaveContractorGroup` | id (string) | joins / leaves `contractor:<id>` | null |
//!
//! `Echo` answers with the argument's JSON text exactly as sent (key order, number spelling).
//! Methods without a return value complete with `"result": null`, as ASP.NET Core's do.

use hubwire::protocol::{Completion, HubMessage, RawJson};
use serde_json::value::RawValue;

use crate::hub::{Audience, Hub};
use crate::payloads::ChatMessage;
use crate::stamp::now_iso8601;

/// Prefix of the groups `JoinWorkflow` manages; `SendMessage` talks to these.
pub const WORKFLOW_GROUP_PREFIX: &str = "workflow:";

/// The group of a chat workflow.
pub fn workflow_group(id: &str) -> String {
    format!("{WORKFLOW_GROUP_PREFIX}{id}")
}

/// The group of a dispatch region.
pub fn dispatch_group(region: &str) -> String {
    format!("dispatch:{region}")
}

/// The group of one contractor.
pub fn contractor_group(id: &str) -> String {
    format!("contractor:{id}")
}

/// The methods, each with its canonical name and parameter count.
const METHODS: &[(Method, &str, usize)] = &[
    (Method::Echo, "Echo", 1),
    (Method::Fail, "Fail", 1),
    (Method::JoinWorkflow, "JoinWorkflow", 1),
    (Method::LeaveWorkflow, "LeaveWorkflow", 1),
    (Method::SendMessage, "SendMessage", 1),
    (Method::JoinDispatchGroup, "JoinDispatchGroup", 1),
    (Method::LeaveDispatchGroup, "LeaveDispatchGroup", 1),
    (Method::JoinContractorGroup, "JoinContractorGroup", 1),
    (Method::LeaveContractorGroup, "LeaveContractorGroup", 1),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Echo,
    Fail,
    JoinWorkflow,
    LeaveWorkflow,
    SendMessage,
    JoinDispatchGroup,
    LeaveDispatchGroup,
    JoinContractorGroup,
    LeaveContractorGroup,
}

/// A call whose arguments have been bound to the method's parameters.
#[derive(Debug, Clone, PartialEq)]
enum BoundCall {
    Echo(RawJson),
    Fail(String),
    JoinGroup(String),
    LeaveGroup(String),
    SendMessage(String),
}

/// Runs the method `target` for the connection `caller` and says how the invocation ended.
///
/// `arguments` is the Invocation's arguments array; `stream_ids` its client-to-server streams,
/// which no method here accepts.
pub fn invoke(
    hub: &Hub,
    caller: &str,
    target: &str,
    arguments: &RawJson,
    stream_ids: &[String],
) -> Completion {
    match bind(target, arguments, stream_ids) {
        Ok(call) => run(hub, caller, target, call),
        Err(error) => Completion::Error(error),
    }
}

/// The error a StreamInvocation gets: no method of this hub streams yet, so the answer is the
/// one ASP.NET Core gives for calling a non-streaming method as a stream.
pub fn refuse_stream(target: &str) -> Completion {
    match find(target) {
        None => Completion::Error(unknown_method(target)),
        Some((_, name, _)) => Completion::Error(format!(
            "The client attempted to invoke the non-streaming method '{name}' in a streaming fashion."
        )),
    }
}

fn find(target: &str) -> Option<&'static (Method, &'static str, usize)> {
    METHODS
        .iter()
        .find(|(_, name, _)| name.eq_ignore_ascii_case(target))
}

fn unknown_method(target: &str) -> String {
    format!("Unknown hub method '{target}'")
}

fn binding_error(target: &str, detail: &str) -> String {
    format!(
        "Failed to invoke '{target}' due to an error on the server. InvalidDataException: {detail}"
    )
}

fn bind(target: &str, arguments: &RawJson, stream_ids: &[String]) -> Result<BoundCall, String> {
    let &(method, _, arity) = find(target).ok_or_else(|| unknown_method(target))?;
    if !stream_ids.is_empty() {
        let detail = format!(
            "Client sent {} stream(s), Hub method expects 0.",
            stream_ids.len()
        );
        return Err(binding_error(target, &detail));
    }
    // Each argument stays raw JSON text, so Echo answers with exactly what was sent. The
    // protocol layer guarantees an array; anything else binds as no arguments.
    let arguments: Vec<Box<RawValue>> =
        serde_json::from_str(arguments.as_str()).unwrap_or_default();
    if arguments.len() != arity {
        let detail = format!(
            "Invocation provides {} argument(s) but target expects {arity}.",
            arguments.len()
        );
        return Err(binding_error(target, &detail));
    }
    let mut arguments = BoundArguments {
        values: arguments.into_iter(),
        target,
    };
    Ok(match method {
        Method::Echo => BoundCall::Echo(arguments.any()),
        Method::Fail => BoundCall::Fail(arguments.string()?),
        Method::JoinWorkflow => BoundCall::JoinGroup(workflow_group(&arguments.string()?)),
        Method::LeaveWorkflow => BoundCall::LeaveGroup(workflow_group(&arguments.string()?)),
        Method::SendMessage => BoundCall::SendMessage(arguments.string()?),
        Method::JoinDispatchGroup => BoundCall::JoinGroup(dispatch_group(&arguments.string()?)),
        Method::LeaveDispatchGroup => BoundCall::LeaveGroup(dispatch_group(&arguments.string()?)),
        Method::JoinContractorGroup => BoundCall::JoinGroup(contractor_group(&arguments.string()?)),
        Method::LeaveContractorGroup => {
            BoundCall::LeaveGroup(contractor_group(&arguments.string()?))
        }
    })
}

/// Arguments already checked for count, taken one at a time with their type checked.
struct BoundArguments<'a> {
    values: std::vec::IntoIter<Box<RawValue>>,
    target: &'a str,
}

impl BoundArguments<'_> {
    /// The next argument, any JSON value, as sent. The count check ran first, so it is present;
    /// a missing one would read as null rather than fail.
    fn any(&mut self) -> RawJson {
        self.values
            .next()
            .and_then(|raw| RawJson::parse(raw.get()).ok())
            .unwrap_or_else(RawJson::null)
    }

    /// The next argument, which must be a JSON string (as a `string` parameter of a .NET hub
    /// would require: numbers are not converted).
    fn string(&mut self) -> Result<String, String> {
        match self
            .values
            .next()
            .map(|raw| serde_json::from_str::<String>(raw.get()))
        {
            Some(Ok(text)) => Ok(text),
            _ => Err(binding_error(
                self.target,
                "Error binding arguments. Make sure that the types of the provided values match \
                 the types of the hub method being invoked.",
            )),
        }
    }
}

fn run(hub: &Hub, caller: &str, target: &str, call: BoundCall) -> Completion {
    match call {
        BoundCall::Echo(value) => Completion::Result(value),
        BoundCall::Fail(message) => Completion::Error(format!(
            "An unexpected error occurred invoking '{target}' on the server. HubException: {message}"
        )),
        BoundCall::JoinGroup(group) => {
            hub.join_group(caller, &group);
            void_result()
        }
        BoundCall::LeaveGroup(group) => {
            hub.leave_group(caller, &group);
            void_result()
        }
        BoundCall::SendMessage(text) => {
            let sent_at = now_iso8601();
            for group in hub.groups_of(caller) {
                let Some(workflow_id) = group.strip_prefix(WORKFLOW_GROUP_PREFIX) else {
                    continue;
                };
                let message = ChatMessage {
                    workflow_id: workflow_id.to_string(),
                    connection_id: caller.to_string(),
                    text: text.clone(),
                    sent_at: sent_at.clone(),
                };
                let event = HubMessage::Invocation {
                    invocation_id: None,
                    target: "ReceiveMessage".to_string(),
                    arguments: RawJson::from_value(&[message]),
                    stream_ids: Vec::new(),
                };
                hub.send_to(Audience::Group(&group), &event);
            }
            void_result()
        }
    }
}

/// How a method without a return value completes: ASP.NET Core sends `"result": null` for
/// those (not a Completion without `result`), so clients resolve such calls with `null`.
fn void_result() -> Completion {
    Completion::Result(RawJson::null())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: &str) -> RawJson {
        RawJson::parse(json).unwrap()
    }

    #[test]
    fn binding_matches_names_case_insensitively_and_checks_arguments() {
        let cases: &[(&str, &str, Result<BoundCall, &str>)] = &[
            (
                "Echo",
                r#"[{"b":1, "a":2.50}]"#,
                Ok(BoundCall::Echo(args(r#"{"b":1, "a":2.50}"#))),
            ),
            ("echo", "[null]", Ok(BoundCall::Echo(RawJson::null()))),
            (
                "joindispatchgroup",
                r#"["north"]"#,
                Ok(BoundCall::JoinGroup("dispatch:north".into())),
            ),
            (
                "LeaveContractorGroup",
                r#"["c7"]"#,
                Ok(BoundCall::LeaveGroup("contractor:c7".into())),
            ),
            (
                "JoinWorkflow",
                r#"["w1"]"#,
                Ok(BoundCall::JoinGroup("workflow:w1".into())),
            ),
            ("Nope", "[]", Err("Unknown hub method 'Nope'")),
            (
                "Echo",
                "[1,2]",
                Err(
                    "Failed to invoke 'Echo' due to an error on the server. InvalidDataException: \
                     Invocation provides 2 argument(s) but target expects 1.",
                ),
            ),
            (
                "JoinWorkflow",
                "[42]",
                Err(
                    "Failed to invoke 'JoinWorkflow' due to an error on the server. \
                     InvalidDataException: Error binding arguments. Make sure that the types of \
                     the provided values match the types of the hub method being invoked.",
                ),
            ),
        ];
        for (target, arguments, expected) in cases {
            let expected = expected.clone().map_err(str::to_string);
            assert_eq!(
                bind(target, &args(arguments), &[]),
                expected,
                "{target} {arguments}"
            );
        }
    }

    #[test]
    fn upload_streams_are_refused() {
        assert_eq!(
            bind("Echo", &args("[1]"), &["s1".to_string()]),
            Err(
                "Failed to invoke 'Echo' due to an error on the server. InvalidDataException: \
                 Client sent 1 stream(s), Hub method expects 0."
                    .to_string()
            )
        );
    }

    #[test]
    fn streaming_calls_are_refused_with_the_method_name() {
        assert_eq!(
            refuse_stream("echo"),
            Completion::Error(
                "The client attempted to invoke the non-streaming method 'Echo' in a streaming \
                 fashion."
                    .into()
            )
        );
        assert_eq!(
            refuse_stream("Ticks"),
            Completion::Error("Unknown hub method 'Ticks'".into())
        );
    }
}
