{# The slider's script in the folium page (autoescape is off for .js templates: the values
   are folium's element names, JSON from tojson, and our own script, maps/static/herd_map.js). #}
{% macro script(this, kwargs) %}
(function () {
var map = {{ this._parent.get_name() }};
var groups = [{{ this.group_names|join(", ") }}];
var cluster = {{ this.cluster_name }};
var opts = {{ this.options|tojson }};
{{ this.js }}
})();
{% endmacro %}
