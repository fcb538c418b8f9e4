# A Python (WSGI) application served by Apache: the front-end that teams
# use, built on the pinned apache_backend module.
define site::apache::python_vhost (
  String  $docroot    = "/srv/www/${title}",
  String  $app_module = 'app',
  Integer $port       = 80,
) {
  include apache_backend

  apache_backend::vhost { $title:
    docroot     => $docroot,
    port        => $port,
    wsgi_script => "${docroot}/${app_module}.wsgi",
  }
}
