//! Integration tests of the contacts pages.

#![allow(unused_imports)]

use crate::common::{spawn_app, TestApp};
