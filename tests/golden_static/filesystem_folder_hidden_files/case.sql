-- filesystem_folder_hidden_files: a folder's files and subfolders starting with '.' or '_' are left out, other subfolders read, any extension
CREATE TABLE t (id INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/d', 'format' = 'csv');

SELECT * FROM t;
