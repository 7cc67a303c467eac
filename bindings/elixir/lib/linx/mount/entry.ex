defmodule Linx.Mount.Entry do
  @moduledoc """
  One line of a mount table (`/proc/<pid>/mountinfo`, proc(5)), as returned by
  `Linx.Mount.list/0,1`. String fields are binaries with the kernel's octal
  escapes (`\\040` for a space, ...) decoded.

  - `id`, `parent_id`: mount IDs (fields 1, 2).
  - `major`, `minor`: the device of the filesystem (field 3).
  - `root`: the root of the mount within its filesystem (`"/"`, or the
    directory a bind mount was made of) (field 4).
  - `mount_point`: relative to the reading process's root (field 5).
  - `mount_options`: the per-mount options as written, `"rw,nosuid,relatime"`
    (field 6).
  - `optional_fields`: the optional fields as written, `["shared:1"]` (7).
  - `fstype`, `source`, `super_options`: fields 9, 10, 11 (`super_options`
    is the rest of the line, raw spaces included).

  linx's typed propagation (additions): `shared` (peer group or `nil`),
  `master` (the peer group this mount is a slave of, or `nil`),
  `propagate_from` (or `nil`) and `unbindable` (a boolean).
  """
  defstruct [
    :id,
    :parent_id,
    :major,
    :minor,
    :root,
    :mount_point,
    :mount_options,
    :optional_fields,
    :fstype,
    :source,
    :super_options,
    shared: nil,
    master: nil,
    propagate_from: nil,
    unbindable: false
  ]

  @type t :: %__MODULE__{
          id: integer,
          parent_id: integer,
          major: non_neg_integer,
          minor: non_neg_integer,
          root: String.t(),
          mount_point: String.t(),
          mount_options: String.t(),
          optional_fields: [String.t()],
          fstype: String.t(),
          source: String.t(),
          super_options: String.t(),
          shared: non_neg_integer | nil,
          master: non_neg_integer | nil,
          propagate_from: non_neg_integer | nil,
          unbindable: boolean
        }

  @doc false
  def from_native(
        {id, parent_id, major, minor, root, mount_point, mount_options, optional_fields, fstype,
         source, super_options, shared, master, propagate_from, unbindable}
      ) do
    %__MODULE__{
      id: id,
      parent_id: parent_id,
      major: major,
      minor: minor,
      root: root,
      mount_point: mount_point,
      mount_options: mount_options,
      optional_fields: optional_fields,
      fstype: fstype,
      source: source,
      super_options: super_options,
      shared: shared,
      master: master,
      propagate_from: propagate_from,
      unbindable: unbindable
    }
  end
end
