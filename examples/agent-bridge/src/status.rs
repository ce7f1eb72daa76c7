//! Step Functions execution statuses as the guide names them.

use aws_sdk_sfn::types::ExecutionStatus;

/// Still running.
pub const RUNNING: &str = "running";
/// Succeeded.
pub const COMPLETED: &str = "completed";
/// Failed (a `Fail` state, an error).
pub const FAILED: &str = "failed";
/// Ran past its `TimeoutSeconds`.
pub const TIMEOUT: &str = "timeout";
/// Stopped (`StopExecution`).
pub const CANCELLED: &str = "cancelled";

/// The guide's status for a Step Functions one: `RUNNING` → `running`,
/// `SUCCEEDED` → `completed`, `FAILED` → `failed`, `TIMED_OUT` →
/// `timeout`, `ABORTED` → `cancelled`; a failed execution waiting for a
/// redrive is still `running`; anything newer is `unknown`.
pub fn from_step_functions(status: &ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Running | ExecutionStatus::PendingRedrive => RUNNING,
        ExecutionStatus::Succeeded => COMPLETED,
        ExecutionStatus::Failed => FAILED,
        ExecutionStatus::TimedOut => TIMEOUT,
        ExecutionStatus::Aborted => CANCELLED,
        _ => "unknown",
    }
}

/// Whether the execution has ended.
pub fn is_terminal(status: &str) -> bool {
    matches!(status, COMPLETED | FAILED | TIMEOUT | CANCELLED)
}

/// The guide's (simplified) progress: 100 when completed, 50 while
/// running, 0 otherwise.
pub fn progress(status: &str) -> u8 {
    match status {
        COMPLETED => 100,
        RUNNING => 50,
        _ => 0,
    }
}

/// The guide's human-readable line for a status.
pub fn message(status: &str, agent: &str, error: Option<&str>) -> String {
    match status {
        RUNNING => format!("Agent {agent} is processing your request..."),
        COMPLETED => "Agent execution completed successfully".to_owned(),
        FAILED => format!("Agent execution failed: {}", error.unwrap_or("Unknown error")),
        TIMEOUT => "Agent execution timed out".to_owned(),
        CANCELLED => "Agent execution was cancelled".to_owned(),
        _ => "Unknown status".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_functions_status_maps_as_the_guide_says() {
        for (sfn, ours) in [
            ("RUNNING", "running"),
            ("SUCCEEDED", "completed"),
            ("FAILED", "failed"),
            ("TIMED_OUT", "timeout"),
            ("ABORTED", "cancelled"),
            ("PENDING_REDRIVE", "running"),
            ("SOMETHING_NEW", "unknown"),
        ] {
            assert_eq!(from_step_functions(&ExecutionStatus::from(sfn)), ours, "{sfn}");
        }
        assert!(is_terminal(TIMEOUT) && !is_terminal(RUNNING));
        assert_eq!((progress(COMPLETED), progress(RUNNING), progress(FAILED)), (100, 50, 0));
        assert_eq!(message(FAILED, "a", Some("boom")), "Agent execution failed: boom");
    }
}
