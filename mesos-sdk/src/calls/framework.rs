use crate::v1;

/// Starts a [`FrameworkInfoBuilder`] for a framework called `name`, running its tasks
/// as `user` (an empty user lets the agent choose).
pub fn framework_info(name: impl Into<String>, user: impl Into<String>) -> FrameworkInfoBuilder {
    FrameworkInfoBuilder {
        info: v1::FrameworkInfo {
            name: name.into(),
            user: user.into(),
            ..Default::default()
        },
    }
}

/// Builds a [`v1::FrameworkInfo`] with the `MULTI_ROLE` capability set whenever roles
/// are given, as Mesos requires for the `roles` field.
#[derive(Debug, Clone)]
pub struct FrameworkInfoBuilder {
    info: v1::FrameworkInfo,
}

impl FrameworkInfoBuilder {
    /// The framework id, when resubscribing after a failover.
    pub fn id(mut self, id: v1::FrameworkId) -> Self {
        self.info.id = Some(id);
        self
    }

    /// The roles the framework subscribes to (adds the `MULTI_ROLE` capability).
    pub fn roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.info.roles = roles.into_iter().map(Into::into).collect();
        self.capability(v1::framework_info::capability::Type::MultiRole)
    }

    /// Adds a framework capability (once).
    pub fn capability(mut self, kind: v1::framework_info::capability::Type) -> Self {
        let present = self.info.capabilities.iter().any(|c| c.r#type() == kind);
        if !present {
            self.info.capabilities.push(v1::framework_info::Capability {
                r#type: Some(kind as i32),
            });
        }
        self
    }

    /// How long the master keeps the framework's tasks after its connection drops.
    pub fn failover_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.info.failover_timeout = Some(timeout.as_secs_f64());
        self
    }

    /// The principal used for authentication and authorization.
    pub fn principal(mut self, principal: impl Into<String>) -> Self {
        self.info.principal = Some(principal.into());
        self
    }

    /// Whether agents checkpoint the framework's tasks.
    pub fn checkpoint(mut self, checkpoint: bool) -> Self {
        self.info.checkpoint = Some(checkpoint);
        self
    }

    /// The hostname shown in the master's UI.
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.info.hostname = Some(hostname.into());
        self
    }

    /// A link to the framework's own web UI.
    pub fn webui_url(mut self, url: impl Into<String>) -> Self {
        self.info.webui_url = Some(url.into());
        self
    }

    /// Returns the built message.
    pub fn build(self) -> v1::FrameworkInfo {
        self.info
    }
}
