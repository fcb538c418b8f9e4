# The release-engineering build master: one Python vhost.
class site::role::buildmaster (
  String $vhost = 'buildmaster.example.org',
) {
  site::apache::python_vhost { $vhost: }
}
