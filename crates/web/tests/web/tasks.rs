//! Integration tests of the tasks pages.

#![allow(unused_imports)]

use crate::common::{spawn_app, TestApp};
