//! The hub methods clients can call, and how their arguments are bound.
//!
//! Owns the method table, argument checking, group naming and what each method does. Names are
//! matched case-insensitively, as ASP.NET Core does. Error texts follow an ASP.NET Core hub
//! with detailed errors on, so clients see the messages they would see from a real server.
//! This module does not read or write the wire: it gets parsed arguments and says how the call
//! goes on (a [`Completion`] now, a stream to run, an upload to collect); the session acts on
//! that.
//!
//! | Method | Arguments | Effect | Result |
//! | --- | --- | --- | --- |
//! | `Echo` | any value | | the value |
//! | `Fail` | message (string) | | error: `An unexpected error occurred invoking 'Fail' on the server. HubException: <message>` |
//! | `JoinWorkflow` / `LeaveWorkflow` | id (string) | joins / leaves `workflow:<id>` | null |
//! | `SendMessage` | text (string) | `ReceiveMessage` with a [`ChatMessage`] to each `workflow:*` group of the caller | null |
//! | `JoinDispatchGroup` / `LeaveDispatchGroup` | region (string) | joins / leaves `dispatch:<region>` | null |
//! | `JoinContractorGroup` / `LeaveContractorGroup` | id (string) | joins / leaves `contractor:<id>` | null |
//! | `JoinUserGroup` / `LeaveUserGroup` | userId (string) | joins / leaves `user:<userId>` (where `LongTermObligationsUpdated` is pushed) | null |
//! | `Count` (stream) | count (integer), delayMs (integer, optional) | streams `0, 1, … count-1`, one item every delayMs | end of stream |
//! | `UploadSum` | one client stream of numbers | adds the stream's items | the total |
//!
//! `Echo` answers with the argument's JSON text exactly as sent (key order, number spelling).
//! Methods without a return value complete with `"result": null`, as ASP.NET Core's do.
//! `Count` must be called as a stream (StreamInvocation) and the others must not.

use std::time::Duration;

use hubwire::protocol::{Completion, HubMessage, RawJson};
use serde_json::value::RawValue;

use crate::hub::{Audience, Hub};
use crate::payloads::ChatMessage;
use crate::scenario::user_group;
use crate::stamp::now_iso8601;

/// Prefix of the groups `JoinWorkflow` manages; `SendMessage` talks to these.
pub const WORKFLOW_GROUP_PREFIX: &str = "workflow:";

/// The most items one `Count` stream may ask for.
pub const MAX_COUNT: u64 = 100_000;

/// The longest pause between two `Count` items.
pub const MAX_COUNT_DELAY_MS: u64 = 60_000;

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

/// How a method is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// An Invocation answered by one Completion.
    Unary,
    /// A StreamInvocation answered by StreamItems and a Completion.
    ServerStream,
    /// An Invocation with one client-to-server stream, answered when the stream completes.
    Upload,
}

/// One row of the method table.
struct Spec {
    method: Method,
    name: &'static str,
    /// Fewest and most arguments (not counting client streams).
    arguments: (usize, usize),
    shape: Shape,
}

const fn spec(method: Method, name: &'static str, arguments: (usize, usize), shape: Shape) -> Spec {
    Spec {
        method,
        name,
        arguments,
        shape,
    }
}

/// The methods.
const METHODS: &[Spec] = &[
    spec(Method::Echo, "Echo", (1, 1), Shape::Unary),
    spec(Method::Fail, "Fail", (1, 1), Shape::Unary),
    spec(Method::JoinWorkflow, "JoinWorkflow", (1, 1), Shape::Unary),
    spec(Method::LeaveWorkflow, "LeaveWorkflow", (1, 1), Shape::Unary),
    spec(Method::SendMessage, "SendMessage", (1, 1), Shape::Unary),
    spec(
        Method::JoinDispatchGroup,
        "JoinDispatchGroup",
        (1, 1),
        Shape::Unary,
    ),
    spec(
        Method::LeaveDispatchGroup,
        "LeaveDispatchGroup",
        (1, 1),
        Shape::Unary,
    ),
    spec(
        Method::JoinContractorGroup,
        "JoinContractorGroup",
        (1, 1),
        Shape::Unary,
    ),
    spec(
        Method::LeaveContractorGroup,
        "LeaveContractorGroup",
        (1, 1),
        Shape::Unary,
    ),
    spec(Method::JoinUserGroup, "JoinUserGroup", (1, 1), Shape::Unary),
    spec(
        Method::LeaveUserGroup,
        "LeaveUserGroup",
        (1, 1),
        Shape::Unary,
    ),
    spec(Method::Count, "Count", (1, 2), Shape::ServerStream),
    spec(Method::UploadSum, "UploadSum", (0, 0), Shape::Upload),
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
    JoinUserGroup,
    LeaveUserGroup,
    Count,
    UploadSum,
}

/// A call whose arguments have been bound to the method's parameters.
#[derive(Debug, Clone, PartialEq)]
enum BoundCall {
    Echo(RawJson),
    Fail(String),
    JoinGroup(String),
    LeaveGroup(String),
    SendMessage(String),
    Count(StreamPlan),
    UploadSum(String),
}

/// How an Invocation goes on after the method ran.
#[derive(Debug, Clone, PartialEq)]
pub enum Invoked {
    /// It is over: answer with this Completion.
    Completed(Completion),
    /// `UploadSum`: collect the numbers of the client stream with this id, then answer with
    /// their total.
    Upload {
        /// The client-to-server stream's id.
        stream_id: String,
    },
}

/// A server-to-client stream the session is to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamPlan {
    /// `Count`: items `0..count`, `delay` apart (and before the first).
    Count {
        /// How many items.
        count: u64,
        /// The pause before each item.
        delay: Duration,
    },
}

/// Runs the method `target` for the connection `caller` (an Invocation).
///
/// `arguments` is the Invocation's arguments array; `stream_ids` its client-to-server streams.
/// A method fault (`POST /control/faults` `failMethod`) that matches a well-formed call answers
/// it with an error instead, without running it.
pub fn invoke(
    hub: &Hub,
    caller: &str,
    target: &str,
    arguments: &RawJson,
    stream_ids: &[String],
) -> Invoked {
    let call = match bind(target, arguments, stream_ids, false) {
        Ok(call) => call,
        Err(error) => return Invoked::Completed(Completion::Error(error)),
    };
    if let Some(message) = injected_failure(hub, target, arguments) {
        return Invoked::Completed(Completion::Error(hub_exception(target, &message)));
    }
    match call {
        BoundCall::UploadSum(stream_id) => Invoked::Upload { stream_id },
        call => Invoked::Completed(run(hub, caller, target, call)),
    }
}

/// Binds a StreamInvocation of `target`: the stream to run, or the error to complete with.
pub fn stream(
    hub: &Hub,
    target: &str,
    arguments: &RawJson,
    stream_ids: &[String],
) -> Result<StreamPlan, String> {
    let call = bind(target, arguments, stream_ids, true)?;
    if let Some(message) = injected_failure(hub, target, arguments) {
        return Err(hub_exception(target, &message));
    }
    match call {
        BoundCall::Count(plan) => Ok(plan),
        // `bind` lets only server-stream methods through for a StreamInvocation.
        _ => Err(unknown_method(target)),
    }
}

/// The canonical name of a hub method, matched case-insensitively; `None` if there is none.
pub fn canonical_name(target: &str) -> Option<&'static str> {
    find(target).map(|spec| spec.name)
}

/// The error an `UploadSum` completes with when its stream carried something not a number.
pub fn upload_item_error(target: &str) -> String {
    hub_exception(target, "Stream items must be numbers.")
}

/// The error an `UploadSum` completes with when the client ended its stream with an error.
pub fn upload_failed(target: &str, error: &str) -> String {
    hub_exception(target, &format!("The client stream failed: {error}"))
}

fn injected_failure(hub: &Hub, target: &str, arguments: &RawJson) -> Option<String> {
    let name = canonical_name(target)?;
    let first = serde_json::from_str::<Vec<serde_json::Value>>(arguments.as_str())
        .ok()
        .and_then(|arguments| arguments.into_iter().next());
    hub.method_failure(name, first.as_ref())
}

/// The error text of a hub method that threw a `HubException`, as ASP.NET Core words it.
fn hub_exception(target: &str, message: &str) -> String {
    format!(
        "An unexpected error occurred invoking '{target}' on the server. HubException: {message}"
    )
}

fn find(target: &str) -> Option<&'static Spec> {
    METHODS
        .iter()
        .find(|spec| spec.name.eq_ignore_ascii_case(target))
}

fn unknown_method(target: &str) -> String {
    format!("Unknown hub method '{target}'")
}

fn binding_error(target: &str, detail: &str) -> String {
    format!(
        "Failed to invoke '{target}' due to an error on the server. InvalidDataException: {detail}"
    )
}

fn bind(
    target: &str,
    arguments: &RawJson,
    stream_ids: &[String],
    as_stream: bool,
) -> Result<BoundCall, String> {
    let spec = find(target).ok_or_else(|| unknown_method(target))?;
    let name = spec.name;
    match (spec.shape, as_stream) {
        (Shape::ServerStream, false) => {
            return Err(format!(
                "The client attempted to invoke the streaming method '{name}' in a non-streaming fashion."
            ))
        }
        (Shape::Unary | Shape::Upload, true) => {
            return Err(format!(
                "The client attempted to invoke the non-streaming method '{name}' in a streaming fashion."
            ))
        }
        _ => {}
    }
    let expected_streams = usize::from(spec.shape == Shape::Upload);
    if stream_ids.len() != expected_streams {
        let detail = format!(
            "Client sent {} stream(s), Hub method expects {expected_streams}.",
            stream_ids.len()
        );
        return Err(binding_error(target, &detail));
    }
    // Each argument stays raw JSON text, so Echo answers with exactly what was sent. The
    // protocol layer guarantees an array; anything else binds as no arguments.
    let arguments: Vec<Box<RawValue>> =
        serde_json::from_str(arguments.as_str()).unwrap_or_default();
    let (fewest, most) = spec.arguments;
    if arguments.len() < fewest || arguments.len() > most {
        let expected = if fewest == most {
            fewest.to_string()
        } else {
            format!("{fewest} to {most}")
        };
        let detail = format!(
            "Invocation provides {} argument(s) but target expects {expected}.",
            arguments.len()
        );
        return Err(binding_error(target, &detail));
    }
    let mut arguments = BoundArguments {
        values: arguments.into_iter(),
        target,
    };
    Ok(match spec.method {
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
        Method::JoinUserGroup => BoundCall::JoinGroup(user_group(&arguments.string()?)),
        Method::LeaveUserGroup => BoundCall::LeaveGroup(user_group(&arguments.string()?)),
        Method::Count => {
            let count = arguments.whole_number(MAX_COUNT)?;
            let delay_ms = arguments.optional_whole_number(MAX_COUNT_DELAY_MS)?;
            BoundCall::Count(StreamPlan::Count {
                count,
                delay: Duration::from_millis(delay_ms.unwrap_or(0)),
            })
        }
        // The stream count was checked above: there is exactly one.
        Method::UploadSum => BoundCall::UploadSum(stream_ids[0].clone()),
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
            _ => Err(self.type_error()),
        }
    }

    /// The next argument, which must be a whole number from 0 to `most`.
    fn whole_number(&mut self, most: u64) -> Result<u64, String> {
        self.optional_whole_number(most)?
            .ok_or_else(|| self.type_error())
    }

    /// The next argument if there is one (a whole number from 0 to `most`).
    fn optional_whole_number(&mut self, most: u64) -> Result<Option<u64>, String> {
        let Some(raw) = self.values.next() else {
            return Ok(None);
        };
        match serde_json::from_str::<u64>(raw.get()) {
            Ok(number) if number <= most => Ok(Some(number)),
            Ok(_) => Err(binding_error(
                self.target,
                &format!("Error binding arguments. Numbers above {most} are not accepted."),
            )),
            Err(_) => Err(self.type_error()),
        }
    }

    fn type_error(&self) -> String {
        binding_error(
            self.target,
            "Error binding arguments. Make sure that the types of the provided values match \
             the types of the hub method being invoked.",
        )
    }
}

fn run(hub: &Hub, caller: &str, target: &str, call: BoundCall) -> Completion {
    match call {
        BoundCall::Echo(value) => Completion::Result(value.into()),
        BoundCall::Fail(message) => Completion::Error(hub_exception(target, &message)),
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
                    arguments: RawJson::from_value(&[message]).into(),
                    stream_ids: Vec::new(),
                };
                hub.send_to(Audience::Group(&group), &event);
            }
            void_result()
        }
        // Streams and uploads are handed to the session by `invoke` and `stream`.
        BoundCall::Count(_) | BoundCall::UploadSum(_) => Completion::Error(unknown_method(target)),
    }
}

/// How a method without a return value completes: ASP.NET Core sends `"result": null` for
/// those (not a Completion without `result`), so clients resolve such calls with `null`.
fn void_result() -> Completion {
    Completion::Result(RawJson::null().into())
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
            (
                "Count",
                "[3]",
                Err(
                    "The client attempted to invoke the streaming method 'Count' in a \
                     non-streaming fashion.",
                ),
            ),
        ];
        for (target, arguments, expected) in cases {
            let expected = expected.clone().map_err(str::to_string);
            assert_eq!(
                bind(target, &args(arguments), &[], false),
                expected,
                "{target} {arguments}"
            );
        }
    }

    #[test]
    fn stream_binding_reads_count_and_optional_delay() {
        let cases: &[(&str, Result<BoundCall, ()>)] = &[
            (
                "[3]",
                Ok(BoundCall::Count(StreamPlan::Count {
                    count: 3,
                    delay: Duration::ZERO,
                })),
            ),
            (
                "[2, 50]",
                Ok(BoundCall::Count(StreamPlan::Count {
                    count: 2,
                    delay: Duration::from_millis(50),
                })),
            ),
            ("[-1]", Err(())),
            ("[1.5]", Err(())),
            ("[\"3\"]", Err(())),
            ("[100001]", Err(())),
            ("[]", Err(())),
            ("[1, 2, 3]", Err(())),
        ];
        for (arguments, expected) in cases {
            let bound = bind("count", &args(arguments), &[], true).map_err(|_| ());
            assert_eq!(&bound, expected, "{arguments}");
        }
    }

    #[test]
    fn upload_streams_are_refused_by_methods_that_take_none() {
        assert_eq!(
            bind("Echo", &args("[1]"), &["s1".to_string()], false),
            Err(
                "Failed to invoke 'Echo' due to an error on the server. InvalidDataException: \
                 Client sent 1 stream(s), Hub method expects 0."
                    .to_string()
            )
        );
    }

    #[test]
    fn upload_sum_takes_exactly_one_stream() {
        assert_eq!(
            bind("UploadSum", &args("[]"), &["7".to_string()], false),
            Ok(BoundCall::UploadSum("7".into()))
        );
        assert!(bind("UploadSum", &args("[]"), &[], false).is_err());
    }

    #[test]
    fn streaming_calls_of_other_methods_are_refused_with_the_method_name() {
        assert_eq!(
            bind("echo", &args("[1]"), &[], true),
            Err(
                "The client attempted to invoke the non-streaming method 'Echo' in a streaming \
                 fashion."
                    .into()
            )
        );
        assert_eq!(
            bind("Ticks", &args("[]"), &[], true),
            Err("Unknown hub method 'Ticks'".into())
        );
    }
}
