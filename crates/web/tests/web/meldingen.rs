//! Integration tests of the meldingen pages.

#![allow(unused_imports)]

use crate::common::{spawn_app, TestApp};
