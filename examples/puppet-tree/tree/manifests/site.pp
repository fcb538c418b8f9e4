# The main manifest: every node is a build master in this small tree.
node default {
  include site::role::buildmaster
}
