//! A minimal HTTP scheduler client for the master's tests: raw calls, a RecordIO event
//! reader, and waiting for events with a bounded timeout.

use futures::StreamExt;
use mesos_sdk::codec::Encoding;
use mesos_sdk::codec::recordio::{DEFAULT_MAX_RECORD_LEN, decode_stream};
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Call, Event, call, event};
use tokio::sync::mpsc;

use super::WAIT;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

pub fn subscribe_call(info: v1::FrameworkInfo) -> Call {
    Call {
        framework_id: info.id.clone(),
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: info,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Posts a call; `stream_id` goes in `Mesos-Stream-Id`.
pub async fn post(
    url: &str,
    encoding: Encoding,
    stream_id: Option<&str>,
    call: &Call,
) -> reqwest::Response {
    let mut request = client()
        .post(format!("{url}/api/v1/scheduler"))
        .header("Content-Type", encoding.content_type())
        .header("Accept", encoding.content_type())
        .body(encoding.encode(call));
    if let Some(id) = stream_id {
        request = request.header("Mesos-Stream-Id", id);
    }
    request.send().await.expect("request sent")
}

/// A subscribed scheduler: its ids and its decoded events.
pub struct Subscriber {
    pub url: String,
    pub encoding: Encoding,
    pub stream_id: String,
    pub framework_id: v1::FrameworkId,
    pub heartbeat_interval: f64,
    pub events: mpsc::UnboundedReceiver<Event>,
    /// Events skipped by [`Subscriber::expect`], searched first next time.
    backlog: std::collections::VecDeque<Event>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

pub async fn subscribe(url: &str, encoding: Encoding, info: v1::FrameworkInfo) -> Subscriber {
    let response = post(url, encoding, None, &subscribe_call(info)).await;
    assert_eq!(
        response.status(),
        200,
        "SUBSCRIBE answered {}",
        response.status()
    );
    stream(url, encoding, response).await
}

pub async fn stream(url: &str, encoding: Encoding, response: reqwest::Response) -> Subscriber {
    let stream_id = response.headers()["Mesos-Stream-Id"]
        .to_str()
        .unwrap()
        .to_string();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        let mut records = decode_stream(response.bytes_stream(), DEFAULT_MAX_RECORD_LEN);
        while let Some(Ok(record)) = records.next().await {
            let event: Event = encoding.decode(&record).expect("event decodes");
            if tx.send(event).is_err() {
                return;
            }
        }
    });
    let first = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("SUBSCRIBED in time")
        .expect("stream open");
    assert_eq!(first.r#type, Some(event::Type::Subscribed as i32));
    let subscribed = first.subscribed.unwrap();
    Subscriber {
        url: url.to_string(),
        encoding,
        stream_id,
        framework_id: subscribed.framework_id,
        heartbeat_interval: subscribed.heartbeat_interval_seconds.unwrap_or_default(),
        events: rx,
        backlog: Default::default(),
        reader,
    }
}

impl Subscriber {
    /// The next event matching `want`, skipping others; panics after [`WAIT`].
    pub async fn expect(&mut self, what: &str, want: impl Fn(&Event) -> bool) -> Event {
        if let Some(pos) = self.backlog.iter().position(&want) {
            return self.backlog.remove(pos).unwrap();
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what} event within {WAIT:?}"))
                .unwrap_or_else(|| panic!("stream ended before a {what} event"));
            if want(&event) {
                return event;
            }
            if event.r#type != Some(event::Type::Heartbeat as i32) {
                self.backlog.push_back(event);
            }
        }
    }

    /// Puts an OFFERS event read directly from `events` back for [`Subscriber::offers`].
    pub fn put_back(&mut self, offers: event::Offers) {
        self.backlog.push_front(Event {
            r#type: Some(event::Type::Offers as i32),
            offers: Some(offers),
            ..Default::default()
        });
    }

    pub async fn offers(&mut self) -> Vec<v1::Offer> {
        let event = self
            .expect("OFFERS", |e| e.r#type == Some(event::Type::Offers as i32))
            .await;
        event.offers.unwrap().offers
    }

    /// The next UPDATE for `task`.
    pub async fn update(&mut self, task: &str) -> v1::TaskStatus {
        let event = self
            .expect(&format!("UPDATE for {task}"), |e| {
                e.update
                    .as_ref()
                    .is_some_and(|u| u.status.task_id.value == task)
            })
            .await;
        event.update.unwrap().status
    }

    /// Acknowledges every update of `task` until one in `state` arrives; returns it
    /// (acknowledged too).
    pub async fn until_state(&mut self, task: &str, state: v1::TaskState) -> v1::TaskStatus {
        loop {
            let status = self.update(task).await;
            self.acknowledge(&status).await;
            if status.state == state as i32 {
                return status;
            }
            assert!(
                !status.is_terminal(),
                "task {task} ended in {:?} ({:?}) while waiting for {state:?}",
                v1::TaskState::try_from(status.state),
                status.message
            );
        }
    }

    pub fn call(&self, kind: call::Type) -> Call {
        Call {
            framework_id: Some(self.framework_id.clone()),
            r#type: Some(kind as i32),
            ..Default::default()
        }
    }

    pub async fn send(&self, call: &Call) -> reqwest::Response {
        post(&self.url, self.encoding, Some(&self.stream_id), call).await
    }

    /// Sends and asserts the status.
    pub async fn send_ok(&self, call: &Call, status: u16) {
        let response = self.send(call).await;
        let got = response.status().as_u16();
        assert_eq!(
            got,
            status,
            "{:?} answered {got}: {}",
            call.r#type,
            response.text().await.unwrap_or_default()
        );
    }

    pub async fn acknowledge(&self, status: &v1::TaskStatus) {
        let Some(uuid) = status.uuid.clone() else {
            return;
        };
        let mut ack = self.call(call::Type::Acknowledge);
        ack.acknowledge = Some(call::Acknowledge {
            agent_id: status.agent_id.clone().unwrap(),
            task_id: status.task_id.clone(),
            uuid,
        });
        self.send_ok(&ack, 202).await;
    }

    /// ACCEPTs `offer` with one LAUNCH of `tasks`; what is left is not filtered.
    pub async fn launch(&self, offer: &v1::Offer, tasks: Vec<v1::TaskInfo>) {
        let mut accept = self.call(call::Type::Accept);
        accept.accept = Some(call::Accept {
            offer_ids: vec![offer.id.clone()],
            operations: vec![v1::offer::Operation {
                r#type: Some(v1::offer::operation::Type::Launch as i32),
                launch: Some(v1::offer::operation::Launch { task_infos: tasks }),
                ..Default::default()
            }],
            // The rest of the offer may come back at once (Mesos's default is 5 s).
            filters: Some(v1::Filters {
                refuse_seconds: Some(0.0),
            }),
        });
        self.send_ok(&accept, 202).await;
    }
}
