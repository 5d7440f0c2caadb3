use crate::v1;

/// Starts a [`FrameworkInfoBuilder`] for a framework called `name`, running its tasks
/// as `user`.
///
/// An empty `user` becomes the current OS user ([`current_user`]) when the message is
/// built, as Mesos's own scheduler libraries do. Mesos agents run tasks as this user
/// (their `--switch_user` flag is on by default), so it must exist on every agent: with
/// an empty or unknown user, a real Mesos agent fails each task with TASK_LOST or
/// TASK_DROPPED ("No such user").
///
/// ```
/// let info = mesos_sdk::calls::framework_info("demo", "").build();
/// assert_eq!(info.user, mesos_sdk::calls::current_user());
/// assert_eq!(mesos_sdk::calls::framework_info("demo", "nobody").build().user, "nobody");
/// ```
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

    /// Returns the built message, with an empty user replaced by [`current_user`].
    pub fn build(mut self) -> v1::FrameworkInfo {
        fill_user(&mut self.info);
        self.info
    }
}

/// The name of the OS user this process runs as (its real uid), the default
/// `FrameworkInfo.user` of Mesos's scheduler libraries. Falls back to `$USER`, then to
/// `"nobody"`, when the user database has no entry for the uid.
pub fn current_user() -> String {
    whoami::username()
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "nobody".to_string())
}

/// Sets `info.user` to [`current_user`] when it is empty.
pub fn fill_user(info: &mut v1::FrameworkInfo) {
    if info.user.is_empty() {
        info.user = current_user();
    }
}
