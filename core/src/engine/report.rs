//! [`RouteReport`]: how routing and authentication went for one email (`mailex route`).

use crate::auth::AuthFailure;
use crate::record::{Issue, IssueCode};
use crate::routing::{Route, Selection};

/// The explanation `mailex route` prints.
#[derive(Debug, Clone)]
pub struct RouteReport {
    /// The input's source name.
    pub source: String,
    /// The decision.
    pub selection: Selection,
    /// The routes it was made over.
    pub routes: Vec<Route>,
    /// The chosen route's authentication outcome.
    pub auth: Option<Result<(), AuthFailure>>,
    /// Authentication warnings.
    pub warnings: Vec<Issue>,
}

impl std::fmt::Display for RouteReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.source)?;
        match &self.selection.sender {
            Some(sender) => writeln!(f, "  sender: {sender}")?,
            None => writeln!(f, "  sender: (no From address)")?,
        }
        for candidate in &self.selection.candidates {
            let route = &self.routes[candidate.route];
            let mark = if Some(candidate.route) == self.selection.chosen {
                "=>"
            } else {
                "  "
            };
            let (p, k, d, c) = route.rank();
            let why = if !candidate.sender_matched {
                "sender does not match".to_owned()
            } else if let Some(condition) = &candidate.failed_condition {
                format!("sender matches, but not: {condition}")
            } else {
                format!(
                    "matches (rank: priority {p}, pattern kind {k}, domain labels {d}, conditions {c})"
                )
            };
            writeln!(
                f,
                "  {mark} {} [{}] -> {}: {why}",
                route.name, route.sender, route.extractor_spec
            )?;
        }
        match (&self.selection.chosen, &self.auth) {
            (None, _) => writeln!(f, "  result: unmatched (no route matches)")?,
            (Some(i), Some(Ok(()))) => writeln!(
                f,
                "  result: route `{}`, authentication {} passed",
                self.routes[*i].name,
                self.routes[*i].policy.as_str()
            )?,
            (Some(i), Some(Err(failure))) => {
                // Name the code when it says more than the status does.
                let code = match failure.code {
                    IssueCode::Unauthenticated => String::new(),
                    code => format!(" ({code})"),
                };
                writeln!(
                    f,
                    "  result: unauthenticated{code}: route `{}` {}",
                    self.routes[*i].name, failure.message
                )?
            }
            (Some(i), None) => writeln!(f, "  result: route `{}`", self.routes[*i].name)?,
        }
        for warning in &self.warnings {
            writeln!(f, "  warning: {}", warning.message)?;
        }
        Ok(())
    }
}
