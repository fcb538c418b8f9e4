# One Apache-style virtual host file.
define apache_backend::vhost (
  String           $docroot,
  Integer          $port        = 80,
  String           $servername  = $title,
  Optional[String] $wsgi_script = undef,
) {
  include apache_backend

  file { "${apache_backend::sites_dir}/${servername}.conf":
    ensure  => file,
    mode    => '0644',
    content => epp('apache_backend/vhost.conf.epp', {
      'servername'  => $servername,
      'port'        => $port,
      'docroot'     => $docroot,
      'wsgi_script' => $wsgi_script,
    }),
  }
}
