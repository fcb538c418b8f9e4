# Where Apache-style vhost files go. The example writes the files only; it
# does not install or run Apache.
class apache_backend (
  String $sites_dir = '/etc/apache2/sites-available',
) {
  file { ['/etc/apache2', $sites_dir]:
    ensure => directory,
    mode   => '0755',
  }
}
