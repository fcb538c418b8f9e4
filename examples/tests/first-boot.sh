#!/bin/sh
# Recipe test of releng-buildmaster.yaml, run as root on the booted machine
# by `bakery test`: the first-boot puppet apply (config.first_boot) ran
# once, succeeded and used the deploy-time parameters. The vhost it must
# have made is read from the machine: /etc/bakery/deploy.yaml (written by
# cloud-init from user-data, e.g. `bakery test --user-data FILE`), else the
# recipe's parameters, so the test holds with or without deploy data.
unit=bakery-puppet-first-boot.service
marker=/var/lib/bakery/puppet-first-boot.done
key=site::role::buildmaster::vhost
deploy=/etc/bakery/deploy.yaml
failed=0
ok() { echo "ok $*"; }
notok() { echo "not ok $*"; failed=1; }

echo 1..5
# The unit runs before cloud-final, and Puppet is slow under emulation:
# wait until startup has finished rather than race it.
timeout 170 systemctl is-system-running --wait >/dev/null
state=$(systemctl show -p ActiveState --value "$unit")
result=$(systemctl show -p Result --value "$unit")
if [ "$state" = active ] && [ "$result" = success ]; then
	ok "1 - $unit ran and succeeded"
else
	notok "1 - $unit is $state, result $result"
	systemctl status --no-pager "$unit" 2>&1 | sed 's/^/# /'
fi

if [ -e "$marker" ]; then ok "2 - done marker $marker"; else notok "2 - no done marker $marker"; fi

log=$(journalctl -b -u "$unit" -o cat --no-pager 2>&1)
if echo "$log" | grep -q 'Applied catalog'; then
	ok "3 - Puppet applied the catalog at this boot"
else
	notok "3 - the journal of $unit shows no applied catalog"
fi
echo "$log" | grep -E 'Notice:|Error:|Warning:' | sed 's/^/# /'
start=$(systemctl show -p ExecMainStartTimestampMonotonic --value "$unit")
end=$(systemctl show -p ExecMainExitTimestampMonotonic --value "$unit")
[ "${start:-0}" -gt 0 ] && [ "${end:-0}" -gt "$start" ] &&
	echo "# first-boot puppet apply took $(( (end - start) / 1000000 )) s"

# lookup KEY FILE...: the key's value in the first YAML file that has it.
lookup() {
	python3 - "$@" <<'PY'
import sys, yaml
for f in sys.argv[2:]:
    try:
        data = yaml.safe_load(open(f)) or {}
    except FileNotFoundError:
        continue
    if sys.argv[1] in data:
        print(data[sys.argv[1]], f)
        break
PY
}
set -- $(lookup "$key" "$deploy" /etc/bakery/recipe-params.yaml)
vhost=${1:-buildmaster.example.org} from=${2:-the class default}
conf=/etc/apache2/sites-available/$vhost.conf
if grep -qx "  ServerName $vhost" "$conf" 2>/dev/null; then
	ok "4 - vhost $vhost (from $from): $conf"
else
	notok "4 - no vhost $vhost (from $from): $conf is missing or lacks ServerName"
	ls -l /etc/apache2/sites-available/ 2>&1 | sed 's/^/# /'
fi

# A deploy-time vhost is not in the image: the first boot must have made it.
if [ "$from" != "$deploy" ]; then
	ok "5 # skip no deploy-time data in $deploy"
elif [ "$(stat -c %Y "$conf")" -ge "$(awk '/^btime/ {print $2}' /proc/stat)" ]; then
	ok "5 - $conf was written at this boot"
else
	notok "5 - $conf is older than this boot: baked, not made at first boot"
fi
exit $failed
