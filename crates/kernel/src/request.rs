/// Where a request came from, recorded with every audit entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// Work started by the server itself or the command line, not by an HTTP request.
    pub fn system() -> Self {
        Self::default()
    }
}
