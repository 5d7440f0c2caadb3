//! Offer operations for `ACCEPT`: launch tasks, launch task groups, reserve and
//! unreserve resources, create and destroy persistent volumes.
//!
//! ```
//! use mesos_sdk::calls::operations;
//! use mesos_sdk::v1::offer::operation::Type;
//!
//! let launch = operations::launch(vec![]);
//! assert_eq!(launch.r#type(), Type::Launch);
//! ```

use crate::v1::{self, offer::operation};

fn of_type(kind: operation::Type) -> v1::offer::Operation {
    v1::offer::Operation {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// `LAUNCH`: run these tasks on the offered resources.
pub fn launch(tasks: Vec<v1::TaskInfo>) -> v1::offer::Operation {
    v1::offer::Operation {
        launch: Some(operation::Launch { task_infos: tasks }),
        ..of_type(operation::Type::Launch)
    }
}

/// `LAUNCH_GROUP`: run a group of tasks together inside one executor.
pub fn launch_group(executor: v1::ExecutorInfo, tasks: Vec<v1::TaskInfo>) -> v1::offer::Operation {
    v1::offer::Operation {
        launch_group: Some(operation::LaunchGroup {
            executor,
            task_group: v1::TaskGroupInfo { tasks },
        }),
        ..of_type(operation::Type::LaunchGroup)
    }
}

/// `RESERVE`: dynamically reserve resources (each carrying its `reservations`).
pub fn reserve(resources: Vec<v1::Resource>) -> v1::offer::Operation {
    v1::offer::Operation {
        reserve: Some(operation::Reserve {
            resources,
            ..Default::default()
        }),
        ..of_type(operation::Type::Reserve)
    }
}

/// `UNRESERVE`: release dynamically reserved resources.
pub fn unreserve(resources: Vec<v1::Resource>) -> v1::offer::Operation {
    v1::offer::Operation {
        unreserve: Some(operation::Unreserve { resources }),
        ..of_type(operation::Type::Unreserve)
    }
}

/// `CREATE`: create persistent volumes (disk resources with `disk.persistence`).
pub fn create(volumes: Vec<v1::Resource>) -> v1::offer::Operation {
    v1::offer::Operation {
        create: Some(operation::Create { volumes }),
        ..of_type(operation::Type::Create)
    }
}

/// `DESTROY`: destroy persistent volumes.
pub fn destroy(volumes: Vec<v1::Resource>) -> v1::offer::Operation {
    v1::offer::Operation {
        destroy: Some(operation::Destroy { volumes }),
        ..of_type(operation::Type::Destroy)
    }
}
